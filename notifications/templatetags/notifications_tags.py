from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.template.defaultfilters import linebreaksbr
from django.template.defaulttags import CsrfTokenNode
from django.utils.html import conditional_escape as esc
from django.utils.safestring import mark_safe

from core.urls import pk_url

register = template.Library()


@register.simple_tag(takes_context=True)
def inbox_rows(context, items):
    """The inbox's table rows. Built here rather than in a template: up to 100 rows, and the
    template engine (with two {% url %} per row) was most of the page. Every value is escaped
    as autoescape would; the markup is that of the former row template."""
    open_url, mark_read_url = pk_url("notifications:open"), pk_url("notifications:mark_read")
    csrf_input = CsrfTokenNode().render(context)
    rows = []
    for item in items:
        title = (f'<a href="{esc(open_url(item.pk))}">{esc(item.title)}</a>' if item.url
                 else esc(item.title))
        body = (f'<div class="muted notification-body">{linebreaksbr(item.body)}</div>'
                if item.body else "")
        if item.is_read:
            state, action = "notification-read", '<span class="muted">Read</span>'
        else:
            state = "notification-unread"
            action = (f'\n      <form method="post" action="{esc(mark_read_url(item.pk))}" '
                      f'class="inline">{csrf_input}\n'
                      '        <button type="submit" class="linklike">Mark read</button>\n'
                      "      </form>")
        rows.append(
            f'  <tr class="{state}">\n    <td>\n      {title}\n      {body}\n    </td>\n'
            f'    <td class="muted">{esc(naturaltime(item.created_at))}</td>\n'
            f"    <td>{action}\n    </td>\n  </tr>\n"
        )
    if not rows:
        rows.append("  <tr><td>No notifications yet.</td></tr>\n")
    return mark_safe("".join(rows))  # noqa: S308 - every value above is escaped
