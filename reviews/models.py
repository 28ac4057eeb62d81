"""Review checklists, reviews and their answers, concerns, comments, review requests, policy."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
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
    # The revision whose review this one started from (its answers carried over, each to be
    # confirmed: ChecklistAnswer.carried_from); None when the review started empty.
    answers_carried_from = models.ForeignKey(
        "plans.PlanRevision", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
    )

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
    # On re-review the reviewer starts from their earlier answers: each is marked with the
    # revision it was given on, and counts only once the reviewer confirms it (or changes it,
    # which makes it this revision's own answer): nothing stale is decided on silently.
    carried_from = models.ForeignKey(
        "plans.PlanRevision", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="The earlier revision this answer was carried over from, if any.",
    )
    confirmed = models.BooleanField(
        default=True, help_text="False for a carried-over answer not yet confirmed on this one.",
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["review", "item"], name="one_answer_per_item"),
        ]

    def __str__(self) -> str:
        return f"{self.item_text}: {self.answer}"

    @property
    def needs_confirmation(self) -> bool:
        return self.carried_from_id is not None and not self.confirmed


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
    """A conversation on a plan, as in a pull request: a top-level comment starts a thread
    (replies have a parent), optionally anchored to lines of a revision's text.

    The anchor is the revision, its line range and the text of those lines (plus its SHA-256):
    on a later revision the thread moves to wherever that text is unchanged, and is outdated
    when it is gone (reviews/conversation.py computes this when the conversation is read, so
    it is deterministic and needs no hook on submission). ``section`` and ``step`` say what the
    reader chose (a section's name, a step), kept for display and for ``plangate feedback``.
    """

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
    revision = models.ForeignKey(
        "plans.PlanRevision", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="The revision the comment was anchored on.",
    )
    line_from = models.PositiveIntegerField(null=True, blank=True)
    line_to = models.PositiveIntegerField(null=True, blank=True)
    anchor_text = models.TextField(blank=True, help_text="The anchored lines as written.")
    anchor_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(line_from__isnull=True, line_to__isnull=True)
                | models.Q(line_from__gte=1, line_to__gte=models.F("line_from")),
                name="comment_line_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.author} on {self.plan}"

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None


class CommentEdit(models.Model):
    """A comment's earlier text, kept when its author edits it (shown as "edited")."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="edits")
    body = models.TextField()
    written_at = models.DateTimeField(help_text="When this text was written.")
    replaced_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["replaced_at", "id"]

    def __str__(self) -> str:
        return f"Earlier text of comment {self.comment_id}"


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


#: The most approvals a policy may ask for: more would leave plans unapprovable by any team.
MAX_APPROVALS = 20


class ReviewPolicy(models.Model):
    """How many approvals a plan needs, from whom; stricter when any step is High risk.

    One row is active (the newest); admins edit it. See reviews/policy.py for the evaluation.
    """

    name = models.CharField(max_length=100, default="Default")
    min_approvals = models.PositiveIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(MAX_APPROVALS)],
        help_text=f"At least 1 (a plan is never approved unreviewed), at most {MAX_APPROVALS}.",
    )
    high_risk_min_approvals = models.PositiveIntegerField(
        default=2, validators=[MinValueValidator(1), MaxValueValidator(MAX_APPROVALS)],
        help_text="When any step is High risk; no fewer than the ordinary minimum.",
    )
    required_groups = models.ManyToManyField(Group, blank=True, related_name="+")
    high_risk_required_groups = models.ManyToManyField(Group, blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "review policies"

    def __str__(self) -> str:
        return self.name

    def clean(self):
        # High risk only ever raises the bar (policy.requirements): a lower number here would
        # be ignored, and the admin would believe high-risk plans need fewer approvals.
        low, high = self.min_approvals, self.high_risk_min_approvals
        if low is not None and high is not None and high < low:
            raise ValidationError({"high_risk_min_approvals": (
                f"A high-risk plan needs at least as many approvals as any plan: {low} or more "
                f"(it is {high}).")})
