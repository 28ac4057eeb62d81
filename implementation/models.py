"""What happens after the "go": progress per step, drift reports, the post-implementation review.

Every row here is a record: progress and drift reports are appended, never edited (each run of
`plangate drift` is kept), so the certificate can show the whole history. Rows keep the text they
were about (a step's title, a criterion's text) because an amendment may rewrite the plan's rows.
"""

from django.conf import settings
from django.db import models

from plans.models import Plan, PlanRevision, PlanStep, SuccessCriterion


class ProgressReport(models.Model):
    """The author or their agent marked a step (or one of its actions) done."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="progress_reports")
    # The plan's row for the step; empty for a report made while an amendment was reviewed (the
    # rows were then the amendment's, the step the approved revision's: the report links none)
    # or on a step since deleted. The number and title below are what the report is about.
    step = models.ForeignKey(PlanStep, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+")
    step_number = models.PositiveIntegerField(help_text="1-based, as the plan numbers steps.")
    step_title = models.CharField(max_length=300)
    action_number = models.PositiveIntegerField(
        null=True, blank=True, help_text="1-based; empty when the whole step is reported done.")
    action_text = models.CharField(max_length=1000, blank=True)
    note = models.TextField(blank=True)
    commit = models.CharField(max_length=40, blank=True, help_text="A git commit SHA (hex).")
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["plan", "step_number"])]

    def __str__(self) -> str:
        what = f"action {self.action_number}" if self.action_number else "done"
        return f"Step {self.step_number} {what}"


class DriftReport(models.Model):
    """One run of the drift check: the files a branch changed against the approved revision's."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="drift_reports")
    revision = models.ForeignKey(PlanRevision, on_delete=models.PROTECT, related_name="+",
                                 help_text="The approved revision the files were compared with.")
    base = models.CharField(max_length=255, blank=True)
    head = models.CharField(max_length=255, blank=True)
    head_commit = models.CharField(max_length=40, blank=True)
    changed = models.JSONField(default=list, help_text="Changed files, sorted.")
    unplanned = models.JSONField(default=list, help_text="Changed files no step planned.")
    untouched = models.JSONField(default=list, help_text="Planned files (or globs) not changed.")
    matches = models.JSONField(default=dict, help_text="Changed file -> the step numbers "
                                                       "that planned it.")
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Drift r{self.revision_id}: {len(self.unplanned)} unplanned"

    @property
    def clear(self) -> bool:
        """No change that no step planned (untouched planned files are reported, not failed)."""
        return not self.unplanned


class CriterionCheck(models.Model):
    """A reviewer ticked a success criterion, with evidence (a link or a note)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="criterion_checks")
    criterion = models.ForeignKey(SuccessCriterion, on_delete=models.SET_NULL, null=True,
                                  blank=True, related_name="+")
    number = models.PositiveIntegerField(help_text="1-based position in the success criteria.")
    text = models.CharField(max_length=1000)
    evidence = models.TextField()
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    checked_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["plan", "number"],
                                               name="unique_criterion_check")]

    def __str__(self) -> str:
        return f"Criterion {self.number}: {self.text}"


class Outcome(models.TextChoices):
    VERIFIED = "VERIFIED", "Verified"
    SENT_BACK = "SENT_BACK", "Sent back to implementing"


class Verification(models.Model):
    """The end of a post-implementation review: verified, or sent back with a comment."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="verifications")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    comment = models.TextField(blank=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} by {self.reviewer}"
