"""Forms of the plan editor, import and list filters.

The editor is one PlanForm plus a formset of StepForms. A step's actions and files are edited as
text, one per line (``- [ ] task`` / ``- [x] done``, ``path - description``), and cleaned into
lists the service writes as rows. Forms only parse and validate input; plans/services.py writes.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from markdownx.forms import ImageForm
from markdownx.widgets import MarkdownxWidget
from PIL import Image, UnidentifiedImageError

from .models import Plan, PlanStatus, RiskLevel, validate_list_item, validate_single_line

PROSE_FIELDS = [
    "problem_statement",
    "existing_system",
    "research_findings",
    "high_level_approach",
    "technical_design",
    "unit_testing",
    "integration_testing",
    "manual_testing",
    "high_risk_items",
    "medium_risk_items",
    "risk_dependencies",
    "rollback_if_fails",
    "rollback_partial",
]
SCALAR_FIELDS = ["title", "created_on", *PROSE_FIELDS]

_CHECK_LINE = re.compile(r"^(?:[-*+]\s+)?\[(?P<mark>[ xX]?)\]\s*(?P<text>.*)$")
_BULLET = re.compile(r"^[-*+]\s+")
_MAX_TEXT = 1000
_MAX_PATH = 500


def parse_estimate_hours(text: str) -> Decimal | None:
    """The markdown engine's parser (imported lazily: it lives in plans/markdown.py)."""
    from . import markdown

    return markdown.parse_estimate_hours(text)


def _is_continuation(raw: str, previous_blank: bool, has_item: bool) -> bool:
    """An indented line right below an item continues it, as in the Markdown format."""
    return has_item and not previous_blank and raw[:1].isspace()


def parse_checklist(text: str) -> list[tuple[str, bool]]:
    """``- [ ] task`` / ``- [x] done`` / ``task`` lines into (text, done) pairs; blanks skipped.
    An indented line right below an item continues it (kept with its indentation)."""
    items: list[list] = []
    previous_blank = True
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line:
            previous_blank = True
            continue
        match = _CHECK_LINE.match(line)
        if not match and _is_continuation(raw, previous_blank, bool(items)):
            items[-1][0] += "\n" + raw.rstrip()
        elif match:
            items.append([match["text"].strip(), match["mark"] in ("x", "X")])
        else:
            items.append([_BULLET.sub("", line, count=1).strip(), False])
        previous_blank = False
    return [(text, done) for text, done in items if text]


def format_checklist(items) -> str:
    return "\n".join(f"- [{'x' if done else ' '}] {text}" for text, done in items)


def parse_files(text: str) -> list[tuple[str, str]]:
    """``path - description`` lines (backticks and a leading bullet optional) into pairs.

    A line without " - " is a bare path when it has no spaces, otherwise a description only.
    An indented line right below a file continues its description.
    """
    files: list[list[str]] = []
    previous_blank = True
    for raw in (text or "").splitlines():
        line = _BULLET.sub("", raw.strip(), count=1).strip()
        if not line:
            previous_blank = True
            continue
        if _is_continuation(raw, previous_blank, bool(files)) and not _BULLET.match(raw.strip()):
            files[-1][1] += "\n" + raw.rstrip()
        elif " - " in line:
            path, description = (part.strip() for part in line.split(" - ", 1))
            files.append([path.strip("`").strip(), description])
        elif " " in line and not line.startswith("`"):
            files.append(["", line])
        else:
            files.append([line.strip("`").strip(), ""])
        previous_blank = False
    return [(path, description) for path, description in files]


def _check_items(texts, validator) -> None:
    """Run a model validator over each parsed line, as a form error on the whole field."""
    for text in texts:
        try:
            validator(text)
        except forms.ValidationError as exc:
            raise forms.ValidationError(f"{' '.join(exc.messages)} In: {text[:40]!r}") from None


def format_files(items) -> str:
    lines = []
    for path, description in items:
        if path and description:
            lines.append(f"{path} - {description}")
        else:
            lines.append(path or description)
    return "\n".join(lines)


class PlanForm(forms.ModelForm):
    title = forms.CharField(
        max_length=200,
        error_messages={"required": "Give the plan a title."},
        widget=forms.TextInput(attrs={"placeholder": "Feature name", "autofocus": True}),
    )
    success_criteria = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "- [ ] Functional requirement"}),
        help_text="One per line: '- [ ] requirement' (or '- [x]' when met).",
    )

    class Meta:
        model = Plan
        fields = SCALAR_FIELDS
        widgets = {
            "created_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            **{name: MarkdownxWidget(attrs={"rows": 4}) for name in PROSE_FIELDS},
        }
        labels = {
            "created_on": "Created",
            "high_level_approach": "High-level approach",
            "high_risk_items": "High risk items",
            "medium_risk_items": "Medium risk items",
            "risk_dependencies": "Dependencies",
            "rollback_if_fails": "If implementation fails",
            "rollback_partial": "Partial implementation",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["success_criteria"] = format_checklist(
                (c.text, c.done) for c in self.instance.success_criteria.all()
            )

    def clean_success_criteria(self):
        items = parse_checklist(self.cleaned_data["success_criteria"])
        for text, _ in items:
            if len(text) > _MAX_TEXT:
                raise forms.ValidationError(
                    f"A criterion is longer than {_MAX_TEXT} characters: {text[:40]}…"
                )
        _check_items((text for text, _ in items), validate_list_item)
        return items

    def scalar_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in SCALAR_FIELDS}


class StepForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    title = forms.CharField(
        max_length=300, error_messages={"required": "Every step needs a title."},
        validators=[validate_single_line],
    )
    objective = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    actions = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "- [ ] Specific task"}),
        help_text="One per line: '- [ ] task' or '- [x] done'.",
    )
    files = forms.CharField(
        label="Files to modify/create",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "path/to/file.py - what changes"}),
        help_text="One per line: 'path - description'.",
    )
    dependencies = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 1}))
    estimate = forms.CharField(
        label="Estimated time",
        max_length=100,
        required=False,
        validators=[validate_single_line],
        widget=forms.TextInput(attrs={"placeholder": "e.g. 2-3 hours, 30 minutes, 1 day"}),
    )
    risk = forms.ChoiceField(
        label="Risk level", required=False, choices=[("", "—"), *RiskLevel.choices]
    )

    def clean_estimate(self):
        estimate = self.cleaned_data["estimate"].strip()
        try:
            self.cleaned_data["estimated_hours"] = parse_estimate_hours(estimate)
        except ValueError as exc:
            raise forms.ValidationError(str(exc).capitalize()) from None
        return estimate

    def clean_actions(self):
        items = parse_checklist(self.cleaned_data["actions"])
        if any(len(text) > _MAX_TEXT for text, _ in items):
            raise forms.ValidationError(f"Each action must be at most {_MAX_TEXT} characters.")
        _check_items((text for text, _ in items), validate_list_item)
        return items

    def clean_files(self):
        items = parse_files(self.cleaned_data["files"])
        for path, description in items:
            if len(path) > _MAX_PATH:
                raise forms.ValidationError(f"A path is longer than {_MAX_PATH} characters.")
            if len(description) > _MAX_TEXT:
                raise forms.ValidationError(
                    f"A file description is longer than {_MAX_TEXT} characters."
                )
        _check_items((path for path, _ in items), validate_single_line)
        _check_items((description for _, description in items), validate_list_item)
        return items

    def step_data(self) -> dict:
        data = dict(self.cleaned_data)
        data.setdefault("estimated_hours", None)
        return data


StepFormSet = forms.formset_factory(StepForm, extra=0, max_num=200, validate_max=True)
STEP_PREFIX = "steps"


def step_initial(plan: Plan) -> list[dict]:
    """The editor's starting rows for a saved plan (uses prefetched steps)."""
    return [
        {
            "id": step.pk,
            "title": step.title,
            "objective": step.objective,
            "actions": format_checklist((a.text, a.done) for a in step.actions.all()),
            "files": format_files((f.path, f.description) for f in step.files.all()),
            "dependencies": step.dependencies,
            "estimate": step.estimate,
            "risk": step.risk,
        }
        for step in plan.steps.all()
    ]


def steps_from_post(data) -> list[dict]:
    """The step rows as typed, in order, without validating: for add/remove/reorder round trips."""
    try:
        total = int(data.get(f"{STEP_PREFIX}-TOTAL_FORMS", 0))
    except (TypeError, ValueError):
        total = 0
    names = list(StepForm.base_fields)
    return [
        {name: data.get(f"{STEP_PREFIX}-{index}-{name}", "") for name in names}
        for index in range(min(max(total, 0), 200))
    ]


def apply_step_op(rows: list[dict], op: str) -> list[dict]:
    """``add``, ``remove-N``, ``up-N`` or ``down-N`` (N = 0-based row) applied to the rows."""
    rows = list(rows)
    verb, _, arg = (op or "").partition("-")
    if verb == "add":
        rows.append({"risk": ""})
        return rows
    try:
        index = int(arg)
    except ValueError:
        return rows
    if not 0 <= index < len(rows):
        return rows
    if verb == "remove":
        del rows[index]
    elif verb == "up" and index > 0:
        rows[index - 1], rows[index] = rows[index], rows[index - 1]
    elif verb == "down" and index < len(rows) - 1:
        rows[index + 1], rows[index] = rows[index], rows[index + 1]
    return rows


def unbound_step_formset(rows: list[dict]) -> StepFormSet:
    return StepFormSet(prefix=STEP_PREFIX, initial=rows)


def totals_from_rows(rows: list[dict]) -> dict:
    """Total hours and highest risk of rows as typed; unparseable estimates are reported."""
    from .models import RISK_ORDER

    total, invalid, risk = Decimal(0), [], ""
    for number, row in enumerate(rows, start=1):
        try:
            hours = parse_estimate_hours(str(row.get("estimate") or ""))
        except ValueError:
            invalid.append(number)
            hours = None
        total += hours or 0
        value = row.get("risk") or ""
        if value in RISK_ORDER and RISK_ORDER[value] > RISK_ORDER[risk]:
            risk = value
    return {"total_hours": total, "highest_risk": risk, "invalid_steps": invalid}


class ImportForm(forms.Form):
    file = forms.FileField(required=False, label="Markdown file (.md)")
    text = forms.CharField(
        required=False, label="…or paste the Markdown", widget=forms.Textarea(attrs={"rows": 14})
    )

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("file") and not (cleaned.get("text") or "").strip():
            raise forms.ValidationError("Choose a Markdown file or paste the plan's text.")
        return cleaned

    def source(self) -> tuple[str, str | bytes]:
        """(field name, content) of what to import: the file's bytes or the pasted text."""
        upload = self.cleaned_data.get("file")
        if upload:
            return "file", upload.read(1_000_001)
        return "text", self.cleaned_data["text"]


class PlanFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search")
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *PlanStatus.choices])
    author = forms.CharField(required=False)
    risk = forms.ChoiceField(required=False, choices=[("", "Any risk"), *RiskLevel.choices])
    mine = forms.BooleanField(required=False)



class MarkdownxImageForm(ImageForm):
    """markdownx's upload form, plus: the bytes must really be a PNG, JPEG or GIF image.

    markdownx trusts the declared content type; an SVG or HTML file sent as image/png would
    otherwise reach Pillow inside save() and fail with a server error.
    """

    def clean(self):
        cleaned = super().clean()
        upload = self.files.get("image")
        if upload is not None and not self.errors:
            try:
                with Image.open(upload) as image:
                    kind = image.format
                    image.verify()
            except (UnidentifiedImageError, OSError, ValueError):
                kind = None
            finally:
                upload.seek(0)
            if kind not in ("PNG", "JPEG", "GIF"):
                raise forms.ValidationError("Upload a PNG, JPEG or GIF image.")
        return cleaned
