"""Forms of the plan editor, import and list filters.

The editor is one PlanForm plus a formset of StepForms. PlanForm has a field per prose section
of plans/schema.py, made when the form is. A step's actions and files are edited as text, one
per line (``- [ ] task`` / ``- [x] done``, ``path - description``), and cleaned into lists the
service writes as rows. Forms only parse and validate input; plans/services.py writes.
"""

from __future__ import annotations

import base64
import binascii
import io
import posixpath
import re
import struct
import warnings
from decimal import Decimal
from uuid import uuid4

from django import forms
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from markdownx.forms import ImageForm
from markdownx.settings import MARKDOWNX_IMAGE_MAX_SIZE, MARKDOWNX_MEDIA_PATH
from markdownx.widgets import MarkdownxWidget
from PIL import Image, ImageOps

from core.widgets import QuickSelect

from . import schema
from .markdown import MAX_BYTES, EstimateTooLarge, estimate_hours, parse_estimate_hours
from .models import (
    Plan,
    PlanStatus,
    RiskLevel,
    SubmissionRule,
    highest_risk,
    validate_list_item,
    validate_single_line,
)

_CHECK_LINE = re.compile(r"^(?:[-*+]\s+)?\[(?P<mark>[ xX]?)\]\s*(?P<text>.*)$")
_BULLET = re.compile(r"^[-*+]\s+")
_MAX_TEXT = 1000
_MAX_PATH = 500


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
        elif " - " in line and (line.startswith("`") or " " not in line.split(" - ", 1)[0]):
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


def needed_to_submit() -> set[str]:
    """The sections submission needs filled in (SubmissionRule, as missing_for_submission
    asks): what the editor marks."""
    return set(SubmissionRule.required_keys())


def steps_needed(needed: set[str]) -> bool:
    """Whether ``needed`` (needed_to_submit) has the steps: each then needs its objective and
    risk level."""
    return any(section.key in needed for section in schema.SECTIONS
               if section.kind == schema.STEPS)


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
        fields = ["title", "created_on"]
        widgets = {"created_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
        labels = {"created_on": "Created"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for section in schema.prose():
            self.fields[section.key] = forms.CharField(
                label=section.label, required=False, widget=MarkdownxWidget(attrs={"rows": 4}),
                initial=self.instance.sections.get(section.key, ""),
            )
        if self.instance.pk and not self.is_bound:
            self.initial["success_criteria"] = format_checklist(
                (c.text, c.done) for c in self.instance.success_criteria.all()
            )

    def layout(self) -> list[dict]:
        """The editor's cards: each '##' section the author writes, in schema order, with its
        fields (none for the steps, which come from the formset), and whether submission needs
        it filled in (SubmissionRule, as missing_for_submission asks)."""
        cards, needed = [], needed_to_submit()
        for section in schema.top_level():
            if section.kind == schema.GROUP:
                fields = [self[sub.key] for sub in section.children()]
            elif section.kind in (schema.PROSE, schema.CRITERIA):
                fields = [self[section.key]]
            elif section.kind == schema.STEPS:
                fields = []
            else:  # schema.REVIEWER_KINDS
                continue
            cards.append({"section": section, "fields": fields, "needed": section.key in needed})
        return cards

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
        """What plan_create / plan_update take as fields: title, created date and the prose."""
        names = ["title", "created_on", *schema.prose_keys()]
        return {name: self.cleaned_data[name] for name in names}


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
        """Kept as written; one that is not a time ("TBD") counts as unknown in the totals.
        Only a time too large to store is refused."""
        estimate = self.cleaned_data["estimate"].strip()
        try:
            parse_estimate_hours(estimate)
        except EstimateTooLarge as exc:
            raise forms.ValidationError(str(exc).capitalize()) from None
        except ValueError:
            pass
        self.cleaned_data["estimated_hours"] = estimate_hours(estimate)
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


class BaseStepFormSet(forms.BaseFormSet):
    """A completely empty step row (the blank one a new plan starts with, or one added and
    never filled in) is left out instead of failing "Every step needs a title"; a row with
    anything typed in it, or an existing step's row, is validated as a step.

    A plan with no steps saves as a draft; submitting it is refused by
    Plan.missing_for_submission ("At least one implementation step")."""

    # Django's own asks the user to file a bug report: a page cut short, or a stale one, is not.
    default_error_messages = {
        "missing_management_form": "The form was incomplete: reload the page and try again.",
    }

    def _construct_form(self, i, **kwargs):
        return super()._construct_form(i, empty_permitted=True, **kwargs)

    def steps(self) -> list[dict]:
        """The rows to save, in order, the empty ones left out (after is_valid())."""
        return [form.step_data() for form in self.forms if form.has_changed()]


StepFormSet = forms.formset_factory(StepForm, formset=BaseStepFormSet, extra=0, max_num=200,
                                    validate_max=True)
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
    total, invalid = Decimal(0), []
    for number, row in enumerate(rows, start=1):
        try:
            hours = parse_estimate_hours(str(row.get("estimate") or ""))
        except ValueError:  # kept as written, unknown in the totals
            invalid.append(number)
            hours = None
        total += hours or 0
    risk = highest_risk([row.get("risk") or "" for row in rows])
    return {"total_hours": total, "highest_risk": risk, "invalid_steps": invalid}


class ImportForm(forms.Form):
    file = forms.FileField(required=False, label="Markdown file (.md)")
    text = forms.CharField(  # not stripped: the text is kept as written
        required=False, strip=False, label="…or paste the Markdown",
        widget=forms.Textarea(attrs={"rows": 14}),
    )
    #: A file's bytes (base64) kept while the page asks what to do with a text already
    #: imported: its answer imports the file as it was, line endings and all.
    kept = forms.CharField(required=False, widget=forms.HiddenInput)

    @staticmethod
    def keep(content: bytes) -> str:
        return base64.b64encode(content).decode()

    def clean_text(self) -> str:
        # A text box's lines come with CRLF whatever the author wrote (the browser's): as LF.
        return self.cleaned_data["text"].replace("\r\n", "\n").replace("\r", "\n")

    def clean_kept(self) -> bytes:
        try:
            return base64.b64decode(self.cleaned_data["kept"], validate=True)
        except binascii.Error:
            raise forms.ValidationError("The kept file was damaged: choose it again.") from None

    def clean(self):
        cleaned = super().clean()
        if "file" in self.errors:  # (an empty file, say: that error says it all)
            return cleaned
        if not (cleaned.get("file") or cleaned.get("kept")
                or (cleaned.get("text") or "").strip()):
            raise forms.ValidationError("Choose a Markdown file or paste the plan's text.")
        return cleaned

    def source(self) -> tuple[str, str | bytes]:
        """(field name, content) of what to import: the file's bytes, as chosen or as kept
        across the question, or the pasted text."""
        upload = self.cleaned_data.get("file")
        if upload:
            return "file", upload.read(MAX_BYTES + 1)
        if self.cleaned_data.get("kept"):
            return "file", self.cleaned_data["kept"]
        return "text", self.cleaned_data["text"]


class PlanFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search")
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *PlanStatus.choices],
                               widget=QuickSelect)
    author = forms.CharField(required=False)
    risk = forms.ChoiceField(required=False, choices=[("", "Any risk"), *RiskLevel.choices],
                             widget=QuickSelect)
    mine = forms.BooleanField(required=False)
    archived = forms.BooleanField(required=False, label="Archived plans only")


# The format an upload is stored in, and its extension, by the format Pillow decoded. An MPO is
# a JPEG followed by more images (a phone's depth or HDR gain map): its first image is kept.
_STORED_AS = {"PNG": ("PNG", "png"), "JPEG": ("JPEG", "jpg"), "MPO": ("JPEG", "jpg"),
              "GIF": ("GIF", "gif")}  # fmt: skip
# Pillow copies these from the upload into the file it writes unless told not to (EXIF, XMP
# and PNG text are only written when passed); tests/plans/test_uploads.py checks none survive.
_SAVE_OPTIONS = {
    "PNG": {"icc_profile": None},
    "JPEG": {"comment": b"", "quality": MARKDOWNX_IMAGE_MAX_SIZE.get("quality", 90)},
    "GIF": {"comment": b"", "save_all": True},  # every frame: animations keep playing
}
# Each GIF frame costs Pillow ~0.2 ms to re-encode however small it is: 5 MB of 1x1 frames
# would hold a worker for a minute while staying far under the pixel cap.
_MAX_GIF_FRAMES = 1000
# What Pillow raises on malformed or truncated data, while opening or decoding.
_UNDECODABLE = (OSError, ValueError, SyntaxError, EOFError, IndexError, struct.error)


def _reencode_image(upload, max_pixels: int) -> ContentFile:
    """A new PNG, JPEG or GIF drawn from the upload's pixels, under a random name.

    Only the pixels survive: the client's file name and content type, the metadata (comments,
    EXIF, ICC profile) and any bytes after the image's end are dropped, and the extension is
    that of the decoded format. The pixel count is checked from the header, before decoding.
    """
    too_large = forms.ValidationError(
        f"The image is too large: it may have at most {max_pixels:,} pixels"
        " (width × height × frames)."
    )
    out = io.BytesIO()
    try:
        with (
            warnings.catch_warnings(action="error", category=Image.DecompressionBombWarning),
            Image.open(upload, formats=["PNG", "JPEG", "GIF"]) as image,
        ):
            kind, extension = _STORED_AS[image.format]
            frames = image.n_frames if kind == "GIF" else 1
            if frames > _MAX_GIF_FRAMES:
                raise forms.ValidationError(f"A GIF may have at most {_MAX_GIF_FRAMES:,} frames.")
            if image.width * image.height * frames > max_pixels:
                raise too_large
            if kind != "GIF":  # as markdownx does: PNG and JPEG shrink to fit, GIF is kept whole
                image.thumbnail(MARKDOWNX_IMAGE_MAX_SIZE["size"])
                ImageOps.exif_transpose(image, in_place=True)  # the EXIF orientation is dropped
            image.save(out, kind, **_SAVE_OPTIONS[kind])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_large from None
    except _UNDECODABLE:
        raise forms.ValidationError("Upload a PNG, JPEG or GIF image.") from None
    return ContentFile(out.getvalue(), name=f"{uuid4().hex}.{extension}")


class MarkdownxImageForm(ImageForm):
    """markdownx's upload form, storing a re-encoded copy of a real PNG, JPEG or GIF.

    markdownx checks only the declared content type and the size, keeps the client's file
    extension and stores GIFs byte for byte: a GIF with a trailing <script> posted as x.html
    was served as a page from our origin. Here what is stored is _reencode_image()'s output.
    """

    image = forms.FileField(error_messages={"required": "No image was uploaded."})

    def clean(self):
        if self.has_error("image"):  # missing or empty: the field's own message says why
            return self.cleaned_data
        super().clean()  # markdownx: the declared content type and the size in bytes
        max_pixels = settings.PLANGATE_IMAGE_MAX_PIXELS
        self.cleaned_data["image"] = _reencode_image(self.cleaned_data["image"], max_pixels)
        return self.cleaned_data

    def save(self, commit=True):
        """Store the re-encoded image; the URL it is served at, as markdownx's save() returns."""
        image = self.cleaned_data["image"]
        name = default_storage.save(posixpath.join(MARKDOWNX_MEDIA_PATH, image.name), image)
        return default_storage.url(name)
