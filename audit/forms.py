from django import forms

from core.widgets import QuickSelect

from .actions import ACTIONS


class AuditFilterForm(forms.Form):
    """The filters of the audit pages and exports; all optional, dates inclusive (UTC)."""

    # At most a 64-bit id column's largest: a larger int cannot even be sent to the database.
    plan = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1, label="Plan id")
    actor = forms.CharField(required=False, max_length=150, label="Actor (username)")
    action = forms.ChoiceField(required=False, choices=[("", "Any action")], widget=QuickSelect)
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", "Any action")] + [
            (name, f"{name} — {label}") for name, label in sorted(ACTIONS.items())
        ]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError("The start date is after the end date.")
        return cleaned
