"""Input parsing for the review views; the rules themselves live in services and policy."""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from accounts.roles import REVIEWERS
from core.errors import echoed
from plans import markdown, schema

from .models import Answer, Decision

# The template's '##' sections the author writes, by key (what api/presenters names a stored key
# by). A comment's or concern's menu offers the revision's own sections instead (its outline's
# commentable sections): real plans follow the template loosely.
SECTIONS = [
    ("", "Whole plan"),
    *((section.key, section.heading) for section in schema.top_level()
      if section.kind not in schema.REVIEWER_KINDS),
]
SECTION_LABELS = dict(SECTIONS)


# A step's number on a plan: no plan has more steps than its text has bytes, so a number past
# that is no step (and could not be sent to the database as an OFFSET).
MAX_STEP_NUMBER = markdown.MAX_BYTES
# A row's id: a 64-bit column's range (a larger int cannot be sent to the database at all).
MAX_ID = 2**63 - 1


#: What a page sent with a revision number that is none (the hidden field, tampered or cut).
NO_REVISION = "The page sent no revision number the plan has: reload the review"
#: An answer's checklist item or choice missing or not one of the choices.
NO_ANSWER = "Answer yes, no or N/A for a checklist item."
NOTE_MAX = 5000
CONCERN_TITLE_MAX = 200  # Concern.title's max_length


class AnswerForm(forms.Form):
    """Each field says its own problem (the view joins them): a note too long is not a
    missing answer."""

    item = forms.IntegerField(error_messages={"required": NO_ANSWER, "invalid": NO_ANSWER})
    answer = forms.ChoiceField(choices=Answer.choices, error_messages={
        "required": NO_ANSWER, "invalid_choice": NO_ANSWER})
    note = forms.CharField(required=False, max_length=NOTE_MAX, error_messages={
        "max_length": f"A note can be at most {NOTE_MAX:,} characters "
                      "(this one has %(show_value)s)."})
    revision = forms.IntegerField(required=False, error_messages={
        "invalid": f"{NO_REVISION} and answer again."})


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=Decision.choices, widget=forms.RadioSelect,
        error_messages={"required": "Choose approve, needs revision or reject.",
                        "invalid_choice": "Choose approve, needs revision or reject."},
    )
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}),
                              max_length=20000)
    # Required: the page always sends the number it showed, and the decision service checks
    # the plan has not changed since only when it is given.
    revision = forms.IntegerField(
        widget=forms.HiddenInput,
        error_messages={"invalid": f"{NO_REVISION} and decide again.",
                        "required": f"{NO_REVISION} and decide again."})

    def clean(self):
        # A hidden field shows no errors of its own: the form says them, above its choices.
        for error in self.errors.pop("revision", []):
            self.add_error(None, error)
        return super().clean()


class ConcernForm(forms.Form):
    title = forms.CharField(max_length=CONCERN_TITLE_MAX, error_messages={
        "required": "Name the concern.",
        "max_length": f"A concern's title can be at most {CONCERN_TITLE_MAX} characters "
                      "(this one has %(show_value)s): put the detail in its text."})
    body = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    section = forms.CharField(required=False, max_length=100)
    step = forms.IntegerField(  # a PlanStep's id
        required=False, min_value=1, max_value=MAX_ID,
        error_messages=dict.fromkeys(("invalid", "min_value", "max_value"),
                                     "That step is not part of this plan."))


class CommentForm(forms.Form):
    """A new thread (anchored on a revision's lines, a step or a section) or, with ``parent``,
    a reply. ``step`` is the step's number on the revision."""

    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=20000)
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput)
    section = forms.CharField(required=False, max_length=100)
    step = forms.IntegerField(required=False, min_value=1, max_value=MAX_STEP_NUMBER)
    revision = forms.IntegerField(required=False, min_value=1)
    line_from = forms.IntegerField(required=False, min_value=1)
    line_to = forms.IntegerField(required=False, min_value=1)


class CommentBodyForm(forms.Form):
    """A reply's or an edit's text."""

    body = forms.CharField(max_length=20000)


def reviewer_groups():
    """Groups worth asking: at least one active member is in the Reviewers group."""
    return (Group.objects.filter(user__groups__name=REVIEWERS, user__is_active=True)
            .distinct().order_by("name"))


class RequestForm(forms.Form):
    usernames = forms.CharField(required=False, help_text="Reviewer usernames, comma-separated.")
    group = forms.ModelChoiceField(
        queryset=Group.objects.none(), required=False,
        error_messages={"invalid_choice": "Pick a group with at least one reviewer in it."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = reviewer_groups()

    def clean(self):
        data = super().clean()
        names = [n.strip() for n in (data.get("usernames") or "").split(",") if n.strip()]
        users = list(get_user_model().objects.filter(username__in=names))
        unknown = sorted(set(names) - {u.get_username() for u in users})
        if unknown:
            raise forms.ValidationError(f"No such user: {echoed(', '.join(unknown))}.")
        # A group that is no choice has its own error already: that one says what is wrong.
        if not users and not data.get("group") and "group" not in self.errors:
            raise forms.ValidationError("Name a reviewer or pick a group.")
        data["users"] = users
        return data
