"""Filters of the conversation page (reviews/templates/reviews/conversation.html); people are
named by the builtin ``display_name`` (accounts_tags), as on every page."""

from django import template

from reviews import permissions

register = template.Library()


@register.filter
def editable_by(comment, user) -> bool:
    """The comment's author may still edit it (COMMENT_EDIT_WINDOW after posting)."""
    return permissions.can_edit_comment(comment, user)
