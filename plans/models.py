"""A plan is the template of plans/plan-template.md as rows, plus its state machine.

The prose sections (plans/schema.py) are Markdown in one JSON field, ``Plan.sections``, so a new
section needs no column. Steps, their actions and files, and success criteria are rows so that
they can be edited, reordered and queried. The status only ever changes through a transition,
and only services call transitions (plans/services.py, reviews/services.py).
"""

import re
import unicodedata
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from core.cache import SharedValue

from . import permissions, schema


def _control_characters(text: str) -> list[str]:
    """Control characters, line and paragraph separators in ``text`` (a tab is allowed)."""
    return [
        ch for ch in text
        if ch != "\t" and unicodedata.category(ch) in ("Cc", "Zl", "Zp")
    ]  # fmt: skip


def validate_single_line(value: str) -> None:
    """A title, path or similar: one line, no control characters. A line break here would
    break out of its line in the Markdown export (a title could add sections) and in emails."""
    bad = _control_characters(value or "")
    if bad:
        what = "a line break" if any(ch in "\n\r\u2028\u2029\x85\x0b\x0c" for ch in bad) \
            else "a control character"
        raise ValidationError(
            f"This must be a single line; remove {what} ({bad[0]!r}).", code="single_line"
        )


_FENCE_LINE = re.compile(r"^ {0,3}(?:`{3}|~{3})")


def validate_list_item(value: str) -> None:
    """An action, file description or success criterion: one line, or lines that continue it
    the way the Markdown template does (each further line indented, not blank, not a fence),
    so the export keeps it inside its list item. No control characters."""
    first, *rest = (value or "").split("\n")
    validate_single_line(first)
    for line in rest:
        validate_single_line(line)
        if not line[:1].isspace() or not line.strip() or _FENCE_LINE.match(line):
            raise ValidationError(
                "Keep this to one line (a further line must be indented, not blank and not a "
                "code fence).", code="single_line",
            )  # fmt: skip


class PlanStatus(models.TextChoices):
    DRAFT = "DRAFT", "Draft"
    PENDING_REVIEW = "PENDING_REVIEW", "Pending review"
    APPROVED = "APPROVED", "Approved"
    NEEDS_REVISION = "NEEDS_REVISION", "Needs revision"
    REJECTED = "REJECTED", "Rejected"
    # After approval (the implementation app): the work, then its post-implementation review.
    IMPLEMENTING = "IMPLEMENTING", "Implementing"
    IMPLEMENTED = "IMPLEMENTED", "Implemented"
    VERIFIED = "VERIFIED", "Verified"


#: A status as the predicate of a sentence ("The plan needs revision."): the label alone reads
#: wrong after "is" ("The plan is needs revision"). States not listed read "is <label>".
STATUS_PHRASES = {
    PlanStatus.DRAFT: "is a draft",
    PlanStatus.PENDING_REVIEW: "is waiting for review",
    PlanStatus.NEEDS_REVISION: "needs revision",
    PlanStatus.REJECTED: "was rejected",
    PlanStatus.IMPLEMENTING: "is being implemented",
}


def status_phrase(status) -> str:
    """``The plan {status_phrase(plan.status)}.``"""
    if status in STATUS_PHRASES:
        return STATUS_PHRASES[status]
    try:
        return f"is {PlanStatus(status).label.lower()}"
    except ValueError:
        return f"is {str(status).lower()}"


#: States in which the plan has an approved revision that stands: approved, being implemented,
#: implemented, verified. (An amendment under review is PENDING_REVIEW; the revision approved
#: before it still is the one implementation is measured against.)
APPROVED_STATES = (PlanStatus.APPROVED, PlanStatus.IMPLEMENTING, PlanStatus.IMPLEMENTED,
                   PlanStatus.VERIFIED)
#: States from which the author may submit an amendment (a new revision for review).
AMENDABLE_STATES = (PlanStatus.APPROVED, PlanStatus.IMPLEMENTING, PlanStatus.IMPLEMENTED)


class RiskLevel(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


#: The one order of risk: a step's risk, a plan's highest risk and the policy's "high risk" all
#: come from here. 0 means "not given".
RISK_RANK = {"": 0, RiskLevel.LOW: 1, RiskLevel.MEDIUM: 2, RiskLevel.HIGH: 3}


def highest_risk(risks) -> str:
    """The highest of these risk values ('' when none is given; unknown values count as none)."""
    return max((r for r in risks if RISK_RANK.get(r)), key=RISK_RANK.__getitem__, default="")


def is_high_risk(risks) -> bool:
    return highest_risk(list(risks)) == RiskLevel.HIGH


@schema.section_attributes
class Plan(ConcurrentTransitionMixin, models.Model):
    title = models.CharField(max_length=200, blank=True, validators=[validate_single_line])
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="plans"
    )
    status = FSMField(
        default=PlanStatus.DRAFT, choices=PlanStatus.choices, protected=True, db_index=True
    )
    created_on = models.DateField(
        null=True, blank=True, help_text="The date on the plan's “Created:” line."
    )

    sections = models.JSONField(
        default=dict, blank=True,
        help_text="Markdown of each prose section by key (plans/schema.py); no key = empty.",
    )
    review_checklist = models.TextField(
        blank=True, help_text="The Review Checklist section as written (empty = the template's)."
    )
    extra_sections = models.JSONField(
        default=list, blank=True, help_text="Sections outside the template, kept in place."
    )
    source = models.TextField(
        null=True, blank=True,
        help_text="The Markdown the plan was imported from, as given (its BOM and line "
                  "endings too); its export is this text with only what was edited since "
                  "rewritten. None (null) for a plan made in the editor.",
    )
    source_sha256 = models.CharField(
        max_length=64, blank=True, db_index=True, editable=False,
        help_text="The SHA-256 of the source as a revision of it would be hashed (LF line "
                  "endings, no BOM): how a second import of the same text is recognised.",
    )
    import_report = models.JSONField(
        default=dict, blank=True,
        help_text="What the last import noticed: warnings with their lines, template sections "
                  "found (plans.markdown.ImportReport.as_dict).",
    )
    archived_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When the author put the plan away: hidden from the plan lists unless asked "
                  "for; empty for a plan in use.",
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["author", "status"]),
            models.Index(fields=["-updated_at", "-id"], name="plan_list_order_idx"),
        ]

    def __str__(self) -> str:
        return self.title or f"Untitled plan #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("plans:detail", args=[self.pk])

    # --- transition conditions and permissions (django-fsm calls these with the plan) -------
    def missing_for_submission(self) -> list[str]:
        """What must be filled in before review, in the words the author sees: the required
        sections (SubmissionRule, which admins set; by default schema.Section.required), in
        schema order. A section's own text (kept from an import) counts as filling it in."""
        missing = []
        # Read once per service call: the submit service sets it on the plan it locked, and
        # its checks and the transition's condition all ask.
        required = getattr(self, "submission_required", None)
        if required is None:
            required = SubmissionRule.required_keys()
        for section in schema.SECTIONS:
            if section.key not in required:
                continue
            if section.kind == schema.STEPS:
                missing += self._missing_in_steps()
                continue
            parts = [*section.children(), section] if section.kind == schema.GROUP else [section]
            if not any(self.sections.get(part.key, "").strip() for part in parts):
                missing.append(section.label)
        return missing

    def _missing_in_steps(self) -> list[str]:
        steps = list(self.steps.all())
        missing = [] if steps else ["At least one implementation step"]
        for index, step in enumerate(steps, start=1):
            if not step.objective.strip():
                missing.append(f"Step {index}: objective")
            if not step.risk:
                missing.append(f"Step {index}: risk level")
        return missing

    def is_ready_for_review(self) -> bool:
        return not self.missing_for_submission()

    def has_revision(self) -> bool:
        # A service that loaded the current revision under the plan lock says so: no query.
        if getattr(self, "known_revision", None) is not None:
            return True
        return self.revisions.exists()

    def may_be_submitted_by(self, user) -> bool:
        return permissions.can_submit(self, user)

    def may_be_withdrawn_by(self, user) -> bool:
        return permissions.can_withdraw(self, user)

    def may_be_implemented_by(self, user) -> bool:
        return permissions.can_implement(self, user)

    def may_be_verified_by(self, user) -> bool:
        return permissions.can_verify(self, user)

    # --- state machine (ConcurrentTransitionMixin includes FSMModelMixin); services call these
    @transition(field=status, source=[PlanStatus.DRAFT, PlanStatus.NEEDS_REVISION],
                target=PlanStatus.PENDING_REVIEW, conditions=[is_ready_for_review],
                permission=may_be_submitted_by)
    def submit(self) -> None:
        """Send the plan for review (first submission or resubmission after revision)."""

    @transition(field=status, source=PlanStatus.PENDING_REVIEW, target=PlanStatus.DRAFT,
                permission=may_be_withdrawn_by)
    def withdraw(self) -> None:
        """The author takes the plan back while it is under review."""

    @transition(field=status, source=PlanStatus.PENDING_REVIEW, target=PlanStatus.APPROVED,
                conditions=[has_revision])
    def approve(self) -> None:
        """The review policy is satisfied on the current revision."""

    @transition(field=status, source=PlanStatus.PENDING_REVIEW, target=PlanStatus.NEEDS_REVISION,
                conditions=[has_revision])
    def request_revision(self) -> None:
        """A reviewer asked for changes."""

    @transition(field=status, source=PlanStatus.PENDING_REVIEW, target=PlanStatus.REJECTED,
                conditions=[has_revision])
    def reject(self) -> None:
        """A reviewer rejected the plan; final."""

    # --- after approval (implementation/services.py calls these) ---------------------------
    @transition(field=status, source=PlanStatus.APPROVED, target=PlanStatus.IMPLEMENTING,
                permission=may_be_implemented_by)
    def start_implementation(self) -> None:
        """The author (or their agent) starts implementing the approved revision."""

    @transition(field=status, source=PlanStatus.IMPLEMENTING, target=PlanStatus.IMPLEMENTED,
                permission=may_be_implemented_by)
    def finish_implementation(self) -> None:
        """The author (or their agent) says the implementation is done."""

    @transition(field=status, source=PlanStatus.IMPLEMENTED, target=PlanStatus.VERIFIED,
                permission=may_be_verified_by)
    def mark_verified(self) -> None:
        """A reviewer confirmed the implementation after a post-implementation review."""

    @transition(field=status, source=PlanStatus.IMPLEMENTED, target=PlanStatus.IMPLEMENTING,
                permission=may_be_verified_by)
    def send_back_to_implementing(self) -> None:
        """The post-implementation review found something left to do."""

    @transition(field=status, source=list(AMENDABLE_STATES), target=PlanStatus.PENDING_REVIEW,
                conditions=[has_revision], permission=may_be_implemented_by)
    def amend(self) -> None:
        """The author submits an amendment: a new revision, reviewed under the same policy."""

    # --- derived values -----------------------------------------------------------------------
    @property
    def is_editable(self) -> bool:
        return self.status in (PlanStatus.DRAFT, PlanStatus.NEEDS_REVISION)

    @property
    def is_under_review(self) -> bool:
        return self.status == PlanStatus.PENDING_REVIEW

    @property
    def total_estimated_hours(self) -> Decimal:
        """Sum of parsed step estimates; uses prefetched steps when available."""
        return sum((s.estimated_hours or Decimal(0) for s in self.steps.all()), Decimal(0))

    @property
    def highest_risk(self) -> str:
        """The highest step risk ('' when no step has one); uses prefetched steps."""
        return highest_risk([s.risk for s in self.steps.all()])


class PlanStep(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=300, validators=[validate_single_line])
    objective = models.TextField(blank=True)
    dependencies = models.TextField(blank=True)
    estimate = models.CharField(
        max_length=100, blank=True, help_text="As written, e.g. '2-3 hours' or '1 day'.",
        validators=[validate_single_line],
    )
    estimated_hours = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    risk = models.CharField(max_length=10, choices=RiskLevel.choices, blank=True)
    notes = models.TextField(
        blank=True, help_text="The step's other Markdown as imported: prose, code, tables, "
                              "fields the template does not have.",
    )

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"Step {self.position + 1}: {self.title}"


class StepAction(models.Model):
    step = models.ForeignKey(PlanStep, on_delete=models.CASCADE, related_name="actions")
    position = models.PositiveIntegerField(default=0)
    text = models.CharField(max_length=1000, validators=[validate_list_item])
    done = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.text


class StepFile(models.Model):
    step = models.ForeignKey(PlanStep, on_delete=models.CASCADE, related_name="files")
    position = models.PositiveIntegerField(default=0)
    path = models.CharField(max_length=500, blank=True, validators=[validate_single_line])
    description = models.CharField(max_length=1000, blank=True, validators=[validate_list_item])

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.path or self.description


class SuccessCriterion(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="success_criteria")
    position = models.PositiveIntegerField(default=0)
    text = models.CharField(max_length=1000, validators=[validate_list_item])
    done = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "id"]
        verbose_name_plural = "success criteria"

    def __str__(self) -> str:
        return self.text


class PlanRevisionQuerySet(models.QuerySet):
    """Revisions are never changed: bulk updates are refused like instance saves are.

    Deleting stays possible so that deleting a plan cascades to its revisions; on PostgreSQL a
    trigger (migration 0004) also rejects UPDATE at the database.
    """

    def update(self, **kwargs):
        raise ValueError("Plan revisions are immutable.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise ValueError("Plan revisions are immutable.")

    def update_or_create(self, *args, **kwargs):
        raise ValueError("Plan revisions are immutable.")


class PlanRevision(models.Model):
    """An immutable snapshot taken at each submission: the canonical Markdown and its SHA-256."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    content = models.TextField(help_text="Canonical Markdown (status/approval as placeholders).")
    content_hash = models.CharField(max_length=64, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PlanRevisionQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="unique_revision_number"),
        ]

    def __str__(self) -> str:
        return f"{self.plan} r{self.number} ({self.content_hash[:12]})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Plan revisions are immutable.")
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("plans:revision", args=[self.plan_id, self.number])

    def delete(self, *args, **kwargs):
        raise ValueError("Plan revisions are immutable.")


class PlanEditor(models.Model):
    """Everyone who changed a plan's content: they may never review it (co-authors)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="editors")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "user"], name="unique_plan_editor"),
        ]

    def __str__(self) -> str:
        return f"{self.user} edited {self.plan}"


class SubmissionRule(models.Model):
    """Which sections must be filled in before a plan is submitted: one row, which admins edit
    (plans.services.submission_rule_update audits the change). No row means the schema's own
    rule (schema.Section.required)."""

    required = models.JSONField(
        default=list, blank=True, help_text="Keys of the required sections (plans/schema.py)."
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = "submission rule"

    def __str__(self) -> str:
        labels = [schema.get(key).label for key in self.required if key in _section_keys()]
        return "Required before submission: " + (", ".join(labels) or "nothing")

    @staticmethod
    def default_keys() -> list[str]:
        return [section.key for section in schema.SECTIONS if section.required]

    @classmethod
    def required_keys(cls) -> list[str]:
        """The rule, shared (core.cache.SharedValue): read afresh after any committed change
        of the row (signals connected in PlansConfig.ready call ``rule_changed``)."""
        return list(_RULE.get())

    @classmethod
    def stored_keys(cls) -> list[str]:
        """The rule as the database has it now (one query): for a shared value's loader."""
        row = cls.objects.order_by("pk").only("required").first()
        return cls.default_keys() if row is None else list(row.required)


_RULE = SharedValue("submission-rule", SubmissionRule.stored_keys)
rule_changed = _RULE.changed


def _section_keys() -> set[str]:
    return {section.key for section in schema.SECTIONS}
