from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_http_methods

from . import services
from .forms import ProfileForm, ThrottledAuthenticationForm
from .roles import is_admin, is_reviewer


@method_decorator(login_not_required, name="dispatch")
class LoginView(auth_views.LoginView):
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error("__all__", code="throttled"):
            response.status_code = 429
        return response


def _roles(user) -> list[str]:
    names = sorted(user.groups.values_list("name", flat=True))
    if user.is_superuser and "Admins" not in names:
        names.append("superuser")
    return names


@require_http_methods(["GET", "POST"])
def profile(request):
    """One's own name and email, and a link to change the password (every signed-in user)."""
    user = request.user
    initial = {name: getattr(user, name) for name in services.PROFILE_FIELDS}
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.profile_update(actor=user, user=user, **form.cleaned_data)
        except DjangoValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Profile saved." if changed else "Nothing to change.")
            return redirect("profile")
    return render(request, "accounts/profile.html", {
        "form": form, "roles": _roles(user), "is_admin": is_admin(user),
        "is_reviewer": is_reviewer(user),
    }, status=400 if form.errors else 200)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change form in the app's layout; the change itself is the service's
    (audited), and the session stays signed in."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("profile")

    def form_valid(self, form):
        services.password_change(actor=self.request.user, user=self.request.user,
                                 old_password=form.cleaned_data["old_password"],
                                 new_password=form.cleaned_data["new_password1"])
        update_session_auth_hash(self.request, self.request.user)
        messages.success(self.request, "Password changed.")
        return redirect(self.success_url)
