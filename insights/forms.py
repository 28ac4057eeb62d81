from datetime import date, timedelta

from django import forms
from django.utils import timezone

from plans.models import Plan, RiskLevel

MAX_DAYS = 2 * 366  # a longer period would draw hundreds of weekly bars
# Dates a plan can have; outside them the week arithmetic would leave the calendar (9999-12-31).
EARLIEST, LATEST = date(2000, 1, 1), date(9000, 12, 31)
DEFAULT_WEEKS = 12

SORTS = {
    "relevance": ("-rank", "-updated_at", "-id"),
    "title": ("title", "id"),
    "-title": ("-title", "-id"),
    "status": ("status", "-updated_at", "-id"),
    "-status": ("-status", "-updated_at", "-id"),
    "author": ("author__username", "-updated_at", "-id"),
    "-author": ("-author__username", "-updated_at", "-id"),
    "risk": ("risk_rank", "-updated_at", "-id"),
    "-risk": ("-risk_rank", "-updated_at", "-id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
}


def _states():
    """Every state of the workflow (plans' FSM field), so new states are filters too."""
    return [("", "Any state"), *Plan._meta.get_field("status").choices]


class DateRangeForm(forms.Form):
    date_from = forms.DateField(
        required=False, label="From",
        widget=forms.DateInput(attrs={"type": "date", "min": EARLIEST, "max": LATEST}))
    date_to = forms.DateField(
        required=False, label="To",
        widget=forms.DateInput(attrs={"type": "date", "min": EARLIEST, "max": LATEST}))

    def _in_range(self, name):
        value = self.cleaned_data.get(name)
        if value and not EARLIEST <= value <= LATEST:
            raise forms.ValidationError(f"Pick a date between {EARLIEST} and {LATEST}.")
        return value

    def clean_date_from(self):
        return self._in_range("date_from")

    def clean_date_to(self):
        return self._in_range("date_to")

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end:
            if start > end:
                raise forms.ValidationError("“From” must be on or before “To”.")
            if (end - start).days > MAX_DAYS:
                raise forms.ValidationError(f"Pick at most {MAX_DAYS} days.")
        return data

    def period(self):
        """(from, to): what was asked, else the last DEFAULT_WEEKS weeks up to today."""
        data = self.cleaned_data if self.is_valid() else {}
        end = data.get("date_to") or timezone.localdate()
        start = data.get("date_from") or end - timedelta(weeks=DEFAULT_WEEKS) + timedelta(days=1)
        if start > end or (end - start).days > MAX_DAYS:
            start = end - timedelta(weeks=DEFAULT_WEEKS) + timedelta(days=1)
        return start, end


class InsightsForm(DateRangeForm):
    reviewer = forms.CharField(required=False, max_length=150)  # admins: one reviewer's figures


class SearchForm(DateRangeForm):
    q = forms.CharField(required=False, max_length=200, label="Search")
    state = forms.ChoiceField(required=False, choices=_states)
    author = forms.CharField(required=False, max_length=150)
    reviewer = forms.CharField(required=False, max_length=150)
    risk = forms.ChoiceField(required=False, choices=[("", "Any risk"), *RiskLevel.choices])
    sort = forms.ChoiceField(required=False, choices=[(k, k) for k in SORTS])
