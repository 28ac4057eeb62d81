"""Review checklists, reviews and their answers, concerns, comments, review requests, policy."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models


class ChecklistTemplate(models.Model):
    """An admin-editable checklist: groups of items. Reviews copy item text into their answers."""

    name = models.CharField(max_length=200, unique=True)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True),
                name="one_default_checklist",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ChecklistGroup(models.Model):
    template = models.ForeignKey(ChecklistTemplate, on_delete=models.CASCADE, related_name="groups")
    title = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title


class ChecklistItem(models.Model):
    group = models.ForeignKey(ChecklistGroup, on_delete=models.CASCADE, related_name="items")
    text = models.CharField(max_length=500)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.text


class Decision(models.TextChoices):
    APPROVED = "APPROVED", "Approve"
    NEEDS_REVISION = "NEEDS_REVISION", "Needs revision"
    REJECTED = "REJECTED", "Reject"


class Review(models.Model):
    """One reviewer's review of one plan revision. A decision is final for that revision."""

    plan = models.ForeignKey("plans.Plan", on_delete=models.CASCADE, related_name="reviews")
    revision = models.ForeignKey(
        "plans.PlanRevision", on_delete=models.PROTECT, related_name="reviews"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews"
    )
    checklist = models.ForeignKey(ChecklistTemplate, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=20, choices=Decision.choices, blank=True)
    comment = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["revision", "reviewer"], name="one_review_per_revision"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} on {self.revision}: {self.decision or 'in progress'}"


class Answer(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    NOT_APPLICABLE = "na", "N/A"


class ChecklistAnswer(models.Model):
    """An answer keeps the group and item text it answered, so template edits never alter it."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="answers")
    item = models.ForeignKey(
        ChecklistItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    group_title = models.CharField(max_length=200)
    item_text = models.CharField(max_length=500)
    answer = models.CharField(max_length=3, choices=Answer.choices)
    note = models.TextField(blank=True)
    answered_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["review", "item"], name="one_answer_per_item"),
        ]

    def __str__(self) -> str:
        return f"{self.item_text}: {self.answer}"


class Concern(models.Model):
    """A named blocking concern. While open, the plan cannot be approved."""

    plan = models.ForeignKey("plans.Plan", on_delete=models.CASCADE, related_name="concerns")
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    section = models.CharField(max_length=100, blank=True)
    step = models.ForeignKey(
        "plans.PlanStep", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class Comment(models.Model):
    """Threaded discussion on a plan, optionally anchored to a section or a step."""

    plan = models.ForeignKey("plans.Plan", on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    body = models.TextField()
    section = models.CharField(max_length=100, blank=True)
    step = models.ForeignKey(
        "plans.PlanStep", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.author} on {self.plan}"


class ReviewRequest(models.Model):
    """The author (or an admin) asks a named reviewer or a group to review a plan."""

    plan = models.ForeignKey("plans.Plan", on_delete=models.CASCADE, related_name="review_requests")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    group = models.ForeignKey(
        Group, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False) ^ models.Q(group__isnull=False),
                name="review_request_user_xor_group",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user or self.group} for {self.plan}"


class ReviewPolicy(models.Model):
    """How many approvals a plan needs, from whom; stricter when any step is High risk.

    One row is active (the newest); admins edit it. See reviews/policy.py for the evaluation.
    """

    name = models.CharField(max_length=100, default="Default")
    min_approvals = models.PositiveIntegerField(default=1)
    high_risk_min_approvals = models.PositiveIntegerField(default=2)
    required_groups = models.ManyToManyField(Group, blank=True, related_name="+")
    high_risk_required_groups = models.ManyToManyField(Group, blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "review policies"

    def __str__(self) -> str:
        return self.name
