"""Filters of the conversation page (reviews/templates/reviews/conversation.html)."""

from django import template

from reviews import permissions

register = template.Library()


@register.filter
def editable_by(comment, user) -> bool:
    """The comment's author may still edit it (COMMENT_EDIT_WINDOW after posting)."""
    return permissions.can_edit_comment(comment, user)


@register.filter
def display_name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else "someone"
