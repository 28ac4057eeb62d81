import html
from functools import lru_cache

from django import template
from django.template.loader import get_template
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

from core import cache as shared_cache
from core.urls import pk_url

from .. import formatting
from ..actions import ACTIONS
from ..forms import AuditFilterForm

register = template.Library()

#: The audit list's rows (audit.selectors.page_key): replaced once an entry is added.
PAGE_ROWS_SECONDS = 10 * 60


@register.filter
def audit_details(entry) -> str:
    """An entry's payload in words (audit.formatting.details)."""
    return formatting.details(entry.action, entry.payload)


# A pure function of the string, and a page repeats a handful of agents: remember a few.
_short_user_agent = lru_cache(maxsize=256)(formatting.short_user_agent)


@register.filter
def short_user_agent(user_agent: str) -> str:
    return _short_user_agent(user_agent or "")


# --- the rows of the audit page and of a plan's timeline ---------------------------------------
# Built here rather than in a template: a page is 50 rows of ~25 values each, and the template
# engine spent ~0.6 ms per row resolving them (format_html, with its lazy-string checks, still
# ~0.2 ms). Every value goes through _esc, as autoescape would; the markup is that of the
# former audit/_entry_rows.html and audit/_client.html.
_EMPTY = mark_safe('<tr><td colspan="7" class="muted">No entries match these filters.</td></tr>')


def _esc(value) -> str:
    """conditional_escape(value), minus its checks for lazy strings (none reach here)."""
    return value.__html__() if hasattr(value, "__html__") else html.escape(str(value))


def _client(entry) -> str:
    ip, agent = entry.ip_address or "", entry.user_agent
    if not (ip or agent):
        return ""
    separator = " · " if ip and agent else ""
    agent_html = (f'<span title="{_esc(agent)}">{_esc(_short_user_agent(agent))}</span>'
                  if agent else "")
    return f'<div class="muted audit-client">{_esc(ip)}{separator}{agent_html}</div>'


def _details(row) -> str:
    if not row.grouped:
        text = audit_details(row.entry)
        return f"<div>{_esc(text)}</div>" if text else ""
    items = "".join(f'<li><span class="audit-entry-id">#{_esc(e.pk)}</span> '
                    f'{_esc(audit_details(e))}</li>' for e in row.entries)
    return (f"<details><summary>{_esc(row.group_label)}</summary>\n"
            f'    <ul class="audit-group-entries">{items}</ul>\n'
            '    <p class="muted">One audit entry per answer; the exports list each.</p></details>')


def _row(row, timeline_url) -> str:
    entry, grouped = row.entry, row.grouped
    when = timezone.localtime(entry.created_at)
    first, last = row.id_range if grouped else (None, None)
    id_range = (f'<span class="muted audit-id-range"> (#{_esc(first)}–#{_esc(last)})</span>'
                if grouped else "")
    count = f' <span class="muted">× {len(row.entries)}</span>' if grouped else ""
    object_kind = (f' <span class="muted">({_esc(entry.object_type)} {_esc(entry.object_id)})'
                   '</span>' if entry.object_type else "")
    plan_link = (f'<br><a href="{_esc(timeline_url(entry.plan_id))}">plan '
                 f'#{_esc(entry.plan_id)} timeline</a>' if timeline_url and entry.plan_id else "")
    revision = (f'<code title="{_esc(entry.revision_hash)}">{_esc(entry.revision_hash[:12])}'
                '</code>' if entry.revision_hash else "")
    tr_class = ' class="audit-group"' if grouped else ""
    return (
        f"<tr{tr_class}>\n"
        f'  <td><span class="muted">#{_esc(entry.pk)}</span>{id_range}</td>\n'
        f'  <td><time datetime="{_esc(when.isoformat())}">'
        f"{when:%Y-%m-%d %H:%M:%S} UTC</time></td>\n"
        f"  <td><code>{_esc(entry.action)}</code>{count}</td>\n"
        f'  <td>{_esc(entry.actor_repr or "system")}</td>\n'
        f"  <td>{_esc(entry.object_repr)}{object_kind}\n    {plan_link}</td>\n"
        f"  <td>{revision}</td>\n"
        f'  <td class="audit-payload">{_details(row)}\n    {_client(entry)}</td>\n'
        "</tr>\n"
    )


@register.simple_tag
def audit_entry_rows(entries, show_plan=False) -> SafeString:
    """The table rows of ``entries``, a review's checklist answers gathered into one row
    (audit.formatting.rows); with ``show_plan``, a link to each entry's plan timeline."""
    rows = formatting.rows(entries)
    if not rows:
        return _EMPTY
    timeline_url = pk_url("reviews:timeline") if show_plan else None
    return mark_safe("".join(_row(row, timeline_url) for row in rows))  # noqa: S308 - _esc


@register.simple_tag
def audit_page_rows(entries, key, top) -> SafeString:
    """audit_entry_rows(entries, show_plan=True) of the audit list, kept under ``key`` with the
    newest entry counted, ``top`` (audit.selectors.page_key): shown again while no entry is
    added, they are read without a query."""
    if top is None:
        return audit_entry_rows(entries, show_plan=True)
    _, html = shared_cache.cached(key, lambda: (top, audit_entry_rows(entries, show_plan=True)),
                                  PAGE_ROWS_SECONDS, fresh=lambda kept: kept[0] == top)
    return mark_safe(html)  # noqa: S308 - audit_entry_rows escaped it


@register.simple_tag
def audit_filter_fields(form) -> SafeString:
    """The filter form's fields and errors (audit/_filter_fields.html). Rendering its widgets
    and labels cost as much as the 50 rows; they depend on nothing but the filters asked for,
    the language and the registered actions (which only grow), so each is rendered once."""
    data = tuple((name, form.data.get(name)) for name in form.fields) if form.is_bound else None
    return _filter_fields(data, translation.get_language(), len(ACTIONS))


@lru_cache(maxsize=256)
def _filter_fields(data: tuple | None, language: str, actions: int) -> SafeString:
    form = AuditFilterForm(dict(data) if data is not None else None)
    return get_template("audit/_filter_fields.html").render({"form": form})
