"""Writes a person makes to their own account: name and email, password; and an admin's
activating or deactivating an account (Admin → Users, accounts/admin.py).

accounts sits below audit, so it cannot write the audit trail itself: each service sends
``account_changed`` inside its transaction and the audit app, connected in AuditConfig.ready(),
records it there (never the password, only that it changed).
"""

from django.contrib.auth import password_validation
from django.db import transaction
from django.dispatch import Signal

from core.errors import NotAllowed, ValidationError

#: sent as account_changed.send(sender=User, actor=..., user=..., change="profile" | "password"
#: | "activated" | "deactivated", fields=[names]) inside the service's transaction.
account_changed = Signal()

PROFILE_FIELDS = ("first_name", "last_name", "email")


def _own(actor, user) -> None:
    if actor is None or not actor.is_authenticated or actor.pk != user.pk:
        raise NotAllowed("You can change only your own account.")


@transaction.atomic
def profile_update(*, actor, user, first_name: str, last_name: str, email: str) -> list[str]:
    """Set the account's name and email; returns the names of the fields that changed."""
    _own(actor, user)
    values = {"first_name": first_name.strip(), "last_name": last_name.strip(),
              "email": email.strip()}
    if len(values["first_name"]) > 150 or len(values["last_name"]) > 150:
        raise ValidationError("A name may have at most 150 characters.")
    changed = [name for name in PROFILE_FIELDS if getattr(user, name) != values[name]]
    if changed:
        for name in changed:
            setattr(user, name, values[name])
        user.save(update_fields=changed)
        account_changed.send(sender=type(user), actor=actor, user=user, change="profile",
                             fields=changed)
    return changed


@transaction.atomic
def password_change(*, actor, user, old_password: str, new_password: str) -> None:
    """Change the account's password: the old one must be right, the new one pass the
    configured validators (AUTH_PASSWORD_VALIDATORS)."""
    _own(actor, user)
    if not user.check_password(old_password):
        raise ValidationError("Your old password was entered incorrectly.")
    password_validation.validate_password(new_password, user)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    account_changed.send(sender=type(user), actor=actor, user=user, change="password",
                         fields=["password"])


def account_active_changed(*, actor, user) -> None:
    """Record that ``actor`` (an admin) activated or deactivated ``user``, whose ``is_active``
    was just saved: call it inside the transaction of that save (the admin's change form runs in
    one), so the audit entry commits, or rolls back, with it."""
    account_changed.send(sender=type(user), actor=actor, user=user,
                         change="activated" if user.is_active else "deactivated",
                         fields=["is_active"])
