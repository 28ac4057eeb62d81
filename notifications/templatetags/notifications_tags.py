from html import escape

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.template.defaultfilters import linebreaksbr
from django.template.defaulttags import CsrfTokenNode
from django.utils.safestring import mark_safe

from core.urls import pk_url

register = template.Library()


@register.simple_tag(takes_context=True)
def inbox_rows(context, items):
    """The inbox's table rows, of notifications.selectors.inbox_for_user's tuples. Built here
    rather than in a template: up to 100 rows, and the template engine (with two {% url %} per
    row) was most of the page. Every value is escaped as autoescape would (each is a plain str:
    html.escape, without conditional_escape's checks for safe and lazy strings); the markup is
    that of the former row template."""
    open_url, mark_read_url = pk_url("notifications:open"), pk_url("notifications:mark_read")
    csrf_input = CsrfTokenNode().render(context)
    rows = []
    for pk, title, body, url, created_at, read_at in items:
        title = (f'<a href="{escape(open_url(pk))}">{escape(title)}</a>' if url
                 else escape(title))
        body = (f'<div class="muted notification-body">{linebreaksbr(body)}</div>'
                if body else "")
        if read_at is not None:
            state, action = "notification-read", '<span class="muted">Read</span>'
        else:
            state = "notification-unread"
            action = (f'\n      <form method="post" action="{escape(mark_read_url(pk))}" '
                      f'class="inline">{csrf_input}\n'
                      '        <button type="submit" class="linklike">Mark read</button>\n'
                      "      </form>")
        rows.append(
            f'  <tr class="{state}">\n    <td>\n      {title}\n      {body}\n    </td>\n'
            f'    <td class="muted">{escape(str(naturaltime(created_at)))}</td>\n'
            f"    <td>{action}\n    </td>\n  </tr>\n"
        )
    if not rows:
        rows.append("  <tr><td>No notifications yet.</td></tr>\n")
    return mark_safe("".join(rows))  # noqa: S308 - every value above is escaped
