"""How a person is named on every page: one display name, never a username beside a full name.

The full name when the account has one, else the username. Pages and emails use the
``display_name`` template filter (accounts/templatetags/accounts_tags.py); code uses this.
"""


def display_name(user) -> str:
    if user is None:
        return "system"
    full = (user.get_full_name() or "").strip() if hasattr(user, "get_full_name") else ""
    return full or user.get_username()
