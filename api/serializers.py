"""Input serializers validate the shape of a request (types, lengths, choices); the rules are
the services'. Output serializers describe the answers (and so the OpenAPI schema); they read
plain dicts that api/presenters.py builds."""

from rest_framework import serializers

from plans.models import PlanStatus, RiskLevel
from reviews.models import Answer, Decision

from .fields import InputSerializer, MarkdownField, TextField

RISKS = [*RiskLevel.values, ""]
SHA256 = r"^[0-9a-fA-F]{64}$"


# --- input ----------------------------------------------------------------------------------------
class MarkdownIn(InputSerializer):
    markdown = MarkdownField(help_text="A plan in the format of the plan template.")


class ActionIn(InputSerializer):
    text = TextField(max_length=1000)
    done = serializers.BooleanField(default=False)


class FileIn(InputSerializer):
    path = serializers.CharField(max_length=500, allow_blank=True, default="")
    description = TextField(max_length=1000, allow_blank=True, default="")


class StepIn(InputSerializer):
    id = serializers.IntegerField(required=False, allow_null=True,
                                  help_text="An existing step's id keeps its comments.")
    title = TextField(max_length=300)
    objective = TextField(allow_blank=True, default="", trim_whitespace=False)
    dependencies = TextField(allow_blank=True, default="", trim_whitespace=False)
    estimate = serializers.CharField(max_length=100, allow_blank=True, default="")
    risk = serializers.ChoiceField(choices=RISKS, allow_blank=True, default="")
    actions = ActionIn(many=True, default=list)
    files = FileIn(many=True, default=list)


class CriterionIn(InputSerializer):
    text = TextField(max_length=1000)
    done = serializers.BooleanField(default=False)


class PlanFieldsIn(InputSerializer):
    """A plan as structured JSON. Prose sections are Markdown by key (plans/schema.py keys, e.g.
    "problem_statement"); an unknown key is refused by the service."""

    title = TextField(max_length=200, allow_blank=True, required=False)
    created_on = serializers.DateField(required=False, allow_null=True)
    sections = serializers.DictField(child=TextField(allow_blank=True, trim_whitespace=False),
                                     required=False)
    review_checklist = TextField(allow_blank=True, required=False, trim_whitespace=False)
    steps = StepIn(many=True, required=False)
    success_criteria = CriterionIn(many=True, required=False)


def _given(value) -> bool:
    """A create's value that puts something in the plan: text that is not blank, a date, a
    step, or a section with text (None, a blank text, an empty list or dict: nothing)."""
    if isinstance(value, dict):
        return any(map(_given, value.values()))
    if isinstance(value, str):
        return bool(value.strip())
    return bool(value)


class PlanCreateIn(PlanFieldsIn):
    markdown = MarkdownField(required=False,
                             help_text="Create from Markdown instead of the fields.")

    def validate(self, attrs):
        if "markdown" in attrs and len(attrs) > 1:
            raise serializers.ValidationError(
                "Send either the plan as Markdown or its fields, not both.")
        # Nothing at all, or only empty values ({"created_on": null}, {"title": ""}): no plan to
        # make (the web import refuses an empty paste).
        if not any(_given(value) for value in attrs.values()):
            raise serializers.ValidationError({"markdown": [
                "Markdown is required: send the plan's text (or the plan as fields: title, "
                "sections, steps)."]})
        # As fields, a plan has a title, as the editor requires (a text's comes from its heading).
        if "markdown" not in attrs and not _given(attrs.get("title")):
            raise serializers.ValidationError({"title": [
                "Give the plan a title (or send the plan as Markdown)."]})
        return attrs


class PlanUpdateIn(PlanFieldsIn):
    expected_updated_at = serializers.DateTimeField(
        required=False, allow_null=True,
        help_text="The plan's updated_at as you read it: a newer save makes this a 409.")


class PlanFilterIn(InputSerializer):
    status = serializers.ChoiceField(choices=PlanStatus.choices, required=False)
    author = serializers.CharField(max_length=150, required=False)
    mine = serializers.BooleanField(required=False, default=False)
    q = serializers.CharField(max_length=200, required=False)
    page = serializers.IntegerField(min_value=1, required=False)


class AnswerIn(InputSerializer):
    item = serializers.IntegerField(min_value=1)
    answer = serializers.ChoiceField(choices=Answer.values)
    note = TextField(allow_blank=True, default="", max_length=5000)
    revision = serializers.IntegerField(required=False, allow_null=True, min_value=1)


class DecisionIn(InputSerializer):
    decision = serializers.ChoiceField(choices=Decision.values)
    comment = TextField(allow_blank=True, default="", max_length=20000)
    revision = serializers.IntegerField(
        required=False, allow_null=True, min_value=1,
        help_text="The revision number you reviewed: a newer one makes this a 409.")


class CommentIn(InputSerializer):
    """A new thread, anchored (most precise first) on lines of a revision, a step or a section;
    or, with ``parent``, a reply. ``@username`` notifies that user."""

    body = TextField(max_length=20000)
    section = serializers.CharField(allow_blank=True, default="", max_length=100)
    step = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                    help_text="A step's id (see the plan's steps).")
    step_number = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                           help_text="Step N of the revision.")
    revision = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                        help_text="The revision's number (default: current).")
    line_from = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    line_to = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    parent = serializers.IntegerField(required=False, allow_null=True, min_value=1)


class CommentEditIn(InputSerializer):
    body = TextField(max_length=20000)


class ConcernIn(InputSerializer):
    title = TextField(max_length=200)
    body = TextField(allow_blank=True, default="", max_length=20000)
    section = serializers.CharField(allow_blank=True, default="", max_length=100)
    step = serializers.IntegerField(required=False, allow_null=True, min_value=1)


class VerifyIn(InputSerializer):
    markdown = MarkdownField(whitespace_is_blank=False)  # any text can be compared
    plan = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                    help_text="The plan this text was submitted as, if known.")


class Sha256In(InputSerializer):
    sha256 = serializers.RegexField(SHA256, error_messages={
        "invalid": "Not a SHA-256: 64 hexadecimal characters."})


# --- output ---------------------------------------------------------------------------------------
class RevisionOut(serializers.Serializer):
    number = serializers.IntegerField()
    sha256 = serializers.CharField()
    created_at = serializers.DateTimeField()


class StepOut(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    title = serializers.CharField()
    risk = serializers.ChoiceField(choices=RISKS, allow_blank=True)
    estimate = serializers.CharField(allow_blank=True)
    files = serializers.ListField(child=serializers.CharField())


class PlanSummaryOut(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=PlanStatus.values)
    url = serializers.URLField()
    author = serializers.CharField()
    updated_at = serializers.DateTimeField()


class PlanPageOut(serializers.Serializer):
    """One page of plans (?page=N, 25 a page)."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = PlanSummaryOut(many=True)


class FindingOut(serializers.Serializer):
    line = serializers.IntegerField()
    message = serializers.CharField()


class ImportReportOut(serializers.Serializer):
    conformance = serializers.CharField(
        help_text="How closely the Markdown follows the template, e.g. '6 of 8 template "
                  "sections (not found: Risk Assessment, Success Criteria)'.")
    sections_missing = serializers.ListField(
        child=serializers.CharField(), allow_null=True,
        help_text="The template's sections the Markdown lacks (null: an import before these "
                  "were recorded; import it again to know).")
    warnings = FindingOut(many=True, help_text="What the importer noticed, with its line.")


class AmendmentOut(serializers.Serializer):
    """An amendment of the approved revision, not decided yet."""

    revision = serializers.IntegerField()
    sha256 = serializers.CharField()
    state = serializers.ChoiceField(choices=["pending", "needs_revision", "draft"], help_text=(
        "pending: under review; needs_revision: sent back; draft: withdrawn by its author. "
        "Either way the revision approved before it stays approved."))


class PlanOut(PlanSummaryOut):
    revision = RevisionOut(allow_null=True)
    approved_sha256 = serializers.CharField(
        allow_null=True, help_text="The revision approved now: while an amendment is under "
                                   "review or sent back, the one approved before it.")
    amendment = AmendmentOut(allow_null=True, help_text=(
        "An amendment of the approved revision that is not decided yet (it is the current "
        "revision), else null."))
    created_at = serializers.DateTimeField()
    missing_for_submission = serializers.ListField(
        child=serializers.CharField(),
        help_text="What must be filled in before the plan can be submitted (when editable).")
    import_report = ImportReportOut(
        allow_null=True, help_text="What the last import of its Markdown noticed (null for a "
                                   "plan made in the editor).")
    steps = StepOut(many=True)


class PlanSubmitOut(PlanOut):
    unchanged = serializers.BooleanField(help_text=(
        "The new revision's text is exactly the previous revision's (resubmitted as is, e.g. "
        "after being sent back: reviewers see nothing new, so say why in a comment)."))


class StepRefOut(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    title = serializers.CharField()


class DecisionOut(serializers.Serializer):
    reviewer = serializers.CharField()
    decision = serializers.ChoiceField(choices=Decision.values)
    comment = serializers.CharField(allow_blank=True)
    revision = serializers.IntegerField()
    decided_at = serializers.DateTimeField(allow_null=True)


class LinesOut(serializers.Serializer):
    from_ = serializers.IntegerField(label="from")
    to = serializers.IntegerField()

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class CommentOut(serializers.Serializer):
    """A comment with its thread's state (a reply carries its thread's anchor and state)."""

    id = serializers.IntegerField()
    thread = serializers.IntegerField(help_text="The thread's first comment (itself if first).")
    author = serializers.CharField()
    body = serializers.CharField()
    section = serializers.CharField(allow_blank=True)
    step = StepRefOut(allow_null=True)
    parent = serializers.IntegerField(allow_null=True)
    revision = serializers.IntegerField(allow_null=True,
                                        help_text="The revision the thread was anchored on.")
    anchored_lines = LinesOut(allow_null=True, help_text="Its lines on that revision.")
    anchored_text = serializers.CharField(allow_blank=True)
    lines = LinesOut(allow_null=True, help_text="Where those lines stand, unchanged, on the "
                                                "current revision (null: outdated or none).")
    outdated = serializers.BooleanField(help_text="The anchored lines changed since.")
    resolved = serializers.BooleanField()
    resolved_by = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(allow_null=True)


class ConcernOut(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    body = serializers.CharField(allow_blank=True)
    raised_by = serializers.CharField()
    resolved = serializers.BooleanField()
    section = serializers.CharField(allow_blank=True)
    step = StepRefOut(allow_null=True)
    created_at = serializers.DateTimeField()


class ChecklistNoOut(serializers.Serializer):
    reviewer = serializers.CharField()
    item = serializers.CharField()
    note = serializers.CharField(allow_blank=True)


class FeedbackOut(serializers.Serializer):
    status = serializers.ChoiceField(choices=PlanStatus.values)
    revision = serializers.IntegerField(allow_null=True)
    markdown = serializers.CharField()
    decisions = DecisionOut(many=True)
    comments = CommentOut(many=True)
    concerns = ConcernOut(many=True)
    checklist_no = ChecklistNoOut(many=True)


class ChecklistItemOut(serializers.Serializer):
    item = serializers.IntegerField()
    text = serializers.CharField()
    group = serializers.CharField()


class AnswerOut(serializers.Serializer):
    item = serializers.IntegerField(allow_null=True)
    text = serializers.CharField()
    group = serializers.CharField()
    answer = serializers.ChoiceField(choices=Answer.values)
    note = serializers.CharField(allow_blank=True)


class ReviewOut(serializers.Serializer):
    id = serializers.IntegerField()
    plan = serializers.IntegerField()
    revision = serializers.IntegerField()
    reviewer = serializers.CharField()
    decision = serializers.ChoiceField(choices=[*Decision.values, ""])
    comment = serializers.CharField(allow_blank=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    checklist = ChecklistItemOut(many=True)
    answers = AnswerOut(many=True)


class VerifyOut(serializers.Serializer):
    approved = serializers.BooleanField()
    state = serializers.ChoiceField(choices=["approved", "pending", "changed", "rejected",
                                             "needs_revision", "draft", "unknown"])
    reason = serializers.CharField()
    sha256 = serializers.CharField()
    plan = serializers.IntegerField(allow_null=True)
    revision = serializers.IntegerField(allow_null=True)
    approved_by = serializers.ListField(child=serializers.CharField())
    approved_at = serializers.DateTimeField(allow_null=True)
    policy = serializers.DictField(allow_null=True)
    amendment = AmendmentOut(allow_null=True, help_text=(
        "An amendment of the plan's approved revision that is not decided yet, else null."))


class ProblemOut(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()),
                                   required=False)
    lines = serializers.ListField(child=serializers.DictField(), required=False)
