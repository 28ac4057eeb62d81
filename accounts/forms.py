from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm

from . import throttle


class ThrottledAuthenticationForm(AuthenticationForm):
    """The stock login form, refusing to even try a password once the client or the username
    has failed too often (accounts.throttle)."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        if username and throttle.is_locked_out(username, self.request):
            minutes = max(1, settings.PLANGATE_LOGIN_LOCKOUT_SECONDS // 60)
            raise forms.ValidationError(
                f"Too many failed login attempts. Try again in {minutes} "
                f"minute{'' if minutes == 1 else 's'}.",
                code="throttled",
            )
        return super().clean()


class ProfileForm(forms.Form):
    """Name and email of one's own account (accounts.services.profile_update writes)."""

    first_name = forms.CharField(max_length=150, required=False, label="First name")
    last_name = forms.CharField(max_length=150, required=False, label="Last name")
    email = forms.EmailField(required=False, label="Email", max_length=254,  # User.email's
                             help_text="Where Plangate sends your notifications.")
