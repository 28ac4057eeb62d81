"""``{% plangate_result_list cl %}``: the admin's ``{% result_list cl %}``, the same markup, for
long lists of plain rows (accounts/templates/admin/plangate_change_list.html).

Django's items_for_result works out each cell's field, classes, empty value, link and
preserved filters afresh for every row (~0.2 ms a row: most of a changelist's time). Here
that is done once per column, and a row only reads its values, each shown as Django shows it
(display_for_field / display_for_value). Editable lists and popups use Django's own rows.
tests/project/test_admin.py compares the two.

A model admin with ``cache_rows = True`` (its cells show only what its rows are loaded with)
has a page's rows kept in the shared cache under a hash of everything they are drawn from;
with ``cache_filters = True`` (filters whose choices are fixed: a field's choices, dates), its
filters too (``{% plangate_list_filters cl %}``); and then the whole page
(``{% plangate_cached_page %}``: the admin's header, breadcrumbs and title around the list's
search bar, actions, rows, pagination and filters), its CSRF token put back in on each
request: Django's templates drew the page around the list in a third of its time."""

import datetime
import functools
import hashlib
import pickle
import uuid
from pathlib import Path

import django
from django import template
from django.contrib.admin.templatetags import admin_list
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import (
    FieldIsAForeignKeyColumnName,
    _get_non_gfk_field,
    display_for_field,
    display_for_value,
    lookup_field,
)
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.template import engines
from django.templatetags.static import static
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf
from django.utils import timezone, translation
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from core import cache as shared_cache

register = template.Library()

_SENTINEL = 2_147_483_647  # a primary key no page shows (as core.urls.pk_url)
#: Part of every key here: a new one when the markup this module draws changes (the templates'
#: own changes are keyed by their sources: _admin_templates_digest).
MARKUP_VERSION = 1
CACHE_SECONDS = 24 * 60 * 60
_CSRF_SLOT = f"csrf{uuid.uuid4().hex}"  # drawn where the token goes; no markup has it


@functools.cache
def _admin_templates_digest() -> str:
    """A digest of every admin template as this process finds it (the first folder the
    template engine looks in that has it: a project's override, else Django's), so that a
    deployment that changes one draws the pages afresh. Read once per process."""
    found = {}
    for folder in map(Path, engines["django"].template_dirs):
        for path in sorted((folder / "admin").rglob("*.html")):
            found.setdefault(str(path.relative_to(folder)), path)
    digest = hashlib.sha256()
    for name, path in sorted(found.items()):
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _key(prefix: str, *drawn_from) -> str:
    """(Pickled, not repr'd: twice as fast, and what pickles alike is alike.)"""
    return f"{prefix}:" + hashlib.sha256(pickle.dumps(
        (MARKUP_VERSION, _admin_templates_digest(), *drawn_from), protocol=5)).hexdigest()


#: The changelist pages (some 40 kB each) and counts (plans/admin.py) of this process.
recent = shared_cache.RecentValues(size=64)


def _link(cl):
    """obj -> its change URL with the preserved filters, as items_for_result builds it, worked
    out once per page; None when it does not reverse (the cell is then its text alone)."""
    try:
        url = cl.url_for_result(cl.model(pk=_SENTINEL))
    except NoReverseMatch:
        return None
    url = add_preserved_filters({"preserved_filters": cl.preserved_filters, "opts": cl.opts}, url)
    head, found, tail = url.rpartition(str(_SENTINEL))
    if not found:  # a URL that does not show the key as it is: Django's own rows
        raise LookupError(url)
    return lambda obj: f"{head}{int(obj.pk)}{tail}"


def _non_gfk_field(opts, name):
    try:
        return _get_non_gfk_field(opts, name)
    except (FieldDoesNotExist, FieldIsAForeignKeyColumnName):
        return None


def _lookup(name, model_admin):
    """obj -> (attr, value) of a column that is not a field, as lookup_field finds them. Its
    source (a callable, a ModelAdmin method) is found once per column: lookup_field first
    looks the name up among the model's fields on every row, raising FieldDoesNotExist."""
    if callable(name):
        return lambda obj: (name, name(obj))
    if hasattr(model_admin, name) and name != "__str__":
        method = getattr(model_admin, name)
        return lambda obj: (method, method(obj))
    return lambda obj: lookup_field(name, obj, model_admin)[1:]


def _cell(cl, index, name, *, is_link, tag, link):
    """obj -> the HTML of this column's cell, as items_for_result writes it."""
    model_admin = cl.model_admin
    empty = model_admin.get_empty_value_display()
    classes = [f"field-{admin_list._coerce_field_name(name, index)}"]
    field = _non_gfk_field(cl.lookup_opts, name)
    lookup = _lookup(name, model_admin) if field is None else None
    # display_for_field flattens a field's choices afresh for each value.
    choices = getattr(field, "flatchoices", None)
    try:
        labels = dict(choices) if choices else None
    except TypeError:  # list-like choices: Django's own way, per row
        labels = None

    def value_of(obj):
        """(the value shown, the cell's classes)"""
        if field is None:  # a callable, a ModelAdmin method, a property...
            try:
                attr, value = lookup(obj)
            except ObjectDoesNotExist:
                return empty, classes
            if isinstance(value, str) and value.strip() == "":
                value = ""
            boolean = getattr(attr, "boolean", False)
            if isinstance(attr, property) and hasattr(attr, "fget"):
                boolean = getattr(attr.fget, "boolean", False)
            shown = display_for_value(value, getattr(attr, "empty_value_display", empty), boolean)
            cell_classes = ["action-checkbox"] if name == "action_checkbox" else classes
            if isinstance(value, (datetime.date, datetime.time)):
                cell_classes = [*cell_classes, "nowrap"]
            return shown, cell_classes
        value = getattr(obj, name)
        if isinstance(value, str) and value.strip() == "":
            value = ""
        if field.auto_created:  # the implicit id: shown as a plain value
            nowrap = isinstance(value, (datetime.date, datetime.time))
            return display_for_value(value, empty, False), [*classes, *["nowrap"] * nowrap]
        if isinstance(field.remote_field, models.ManyToOneRel):
            related = getattr(obj, field.name)
            shown = empty if related is None else related
        elif labels is not None:
            shown = labels.get(value, empty)
        else:
            shown = display_for_field(value, field, empty, avoid_link=is_link)
        nowrap = isinstance(field, (models.DateField, models.TimeField, models.ForeignKey))
        return shown, [*classes, "nowrap"] if nowrap else classes

    def render(obj):
        shown, cell_classes = value_of(obj)
        html = conditional_escape(shown)
        if is_link and link is not None:
            html = f'<a href="{conditional_escape(link(obj))}">{html}</a>'
        return f'<{tag} class="{" ".join(cell_classes)}">{html}</{tag}>'

    return render


def fast_results(cl) -> list[list[str]]:
    """The rows of ``admin_list.results(cl)``: per row, its cells' HTML."""
    link = _link(cl)
    cells, first = [], True
    for index, name in enumerate(cl.list_display):
        # admin_list.items_for_result's link_in_col: the first column links when no column
        # is named; the first linking column is a <th>.
        is_link = (first and not cl.list_display_links) or name in cl.list_display_links
        cells.append(_cell(cl, index, name, is_link=is_link, tag="th" if is_link and first
                           else "td", link=link))
        first = first and not is_link
    return [[mark_safe(render(obj)) for render in cells]  # noqa: S308 - escaped above
            for obj in cl.result_list]


def _joined_rows(cl) -> list[str]:
    """Each row's cells as one string: the template writes a row's items one after another."""
    return ["".join(row) for row in fast_results(cl)]


def _loaded(obj):
    """What a row was loaded with: its fields' values, and its related rows' (select_related)."""
    if obj is None:
        return None
    fields = [(name, value) for name, value in vars(obj).items() if not name.startswith("_")]
    return fields, [(name, _loaded(related))
                    for name, related in obj._state.fields_cache.items()]


def _rows_key(cl) -> str:
    """The rows, the columns and their links (the preserved filters, the script prefix, the URL
    configuration), in the language and time zone they are shown in: a change to any of them is
    another key, never a stale page."""
    return _key("admin-rows", cl.opts.label, cl.model_admin.admin_site.name, cl.list_display,
                cl.list_display_links, cl.preserved_filters, get_script_prefix(), get_urlconf(),
                translation.get_language(),
                timezone.get_current_timezone_name(), [_loaded(obj) for obj in cl.result_list])


def _rows(cl) -> list[str]:
    if not getattr(cl.model_admin, "cache_rows", False):
        return _joined_rows(cl)
    return shared_cache.cached(_rows_key(cl), lambda: _joined_rows(cl), CACHE_SECONDS)


@register.simple_tag
def plangate_list_filters(cl):
    """``{% for spec in cl.filter_specs %}{% admin_list_filter cl spec %}{% endfor %}``. Fixed
    choices are drawn from the query string (which is selected, the links), today's date (the
    date filters' links), the language and the time zone: the key. Never with the facets
    (counts of the rows)."""

    def draw():
        return "".join(admin_list.admin_list_filter(cl, spec) for spec in cl.filter_specs)

    if not getattr(cl.model_admin, "cache_filters", False) or cl.add_facets:
        return mark_safe(draw())  # noqa: S308 - Django's filter templates, autoescaped
    key = _key("admin-filters", cl.opts.label, cl.model_admin.admin_site.name,
               cl.get_query_string(), timezone.localdate(), translation.get_language(),
               timezone.get_current_timezone_name())
    return mark_safe(shared_cache.cached(key, draw, CACHE_SECONDS))  # noqa: S308 - as above


@register.inclusion_tag("admin/change_list_results.html")
def plangate_result_list(cl):
    if cl.formset or cl.is_popup or cl.list_display_links is None or cl.to_field:
        return admin_list.result_list(cl)
    try:
        rows = _rows(cl)
    except LookupError:
        return admin_list.result_list(cl)
    headers = list(admin_list.result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": [],
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        # Django's own row type: the template asks each row for its form.
        "results": [admin_list.ResultList(None, [mark_safe(row)])  # noqa: S308 - escaped cells
                    for row in rows],
    }


def _list_key(context) -> str | None:
    """What the list draws from besides its rows: the query string (search, filters, order,
    page), the count, the user's actions and add permission, today's date (the date filters)
    and the static files' URLs. None for lists drawn from more than that (facets' counts,
    a date hierarchy's dates, editable rows, popups)."""
    cl = context.get("cl")
    if (cl is None or not getattr(cl.model_admin, "cache_rows", False) or cl.add_facets
            or cl.date_hierarchy or cl.formset or cl.is_popup or cl.list_display_links is None
            or cl.to_field):
        return None
    action_form = context.get("action_form")
    actions = action_form and [(value, str(label))
                               for value, label in action_form.fields["action"].choices]
    return _key("admin-list", _rows_key(cl), sorted(context["request"].GET.lists()),
                cl.result_count, cl.full_result_count, actions, context.get("has_add_permission"),
                context.get("actions_on_top"), context.get("actions_on_bottom"),
                context.get("actions_selection_counter"), timezone.localdate(),
                static("admin/img/search.svg"))


def _page_inputs(context) -> dict:
    """What the page draws from besides its list (_list_key, which has the language, the time
    zone, the script prefix, the URL configuration and the static files' URL): the title, the
    site's names and its link (the request's script name), whether the user may use the admin,
    the name it greets them by and whether they have a password to change, the media (scripts
    and styles) and the static files' names (a deployment's manifest), and the time zone's UTC
    offset now (``{% now "Z" %}``: it moves with daylight saving time). Named, so that
    tests/project/test_admin_chrome.py can show that each one counts."""
    user = context["request"].user
    return {
        "title": context.get("title"), "subtitle": context.get("subtitle"),
        "site_title": context.get("site_title"), "site_header": context.get("site_header"),
        "site_url": context.get("site_url"), "has_permission": context.get("has_permission"),
        "is_anonymous": user.is_anonymous, "is_active": user.is_active,
        "is_staff": user.is_staff, "short_name": user.get_short_name(),
        "username": user.get_username(), "usable_password": user.has_usable_password(),
        "media": _media(context.get("media")),
        "static_manifest": getattr(staticfiles_storage, "manifest_hash", None),
        "utc_offset": timezone.localtime().utcoffset(),
        # What a deployment may change about the page without a new MARKUP_VERSION.
        "django": django.VERSION,
        "admin_options": [getattr(context["cl"].model_admin, name, None)
                          for name in ADMIN_OPTIONS],
    }


#: The model admin's options that change the page around its rows (_page_inputs).
ADMIN_OPTIONS = ("search_fields", "search_help_text", "list_filter", "list_per_page",
                 "list_max_show_all", "sortable_by", "show_full_result_count")


def _page_key(context) -> str | None:
    """The list's key and the page's inputs (_page_inputs). None for a page with messages (each
    shown once), with the sidebar of every model (what the user may see of each), or whose list
    is drawn afresh."""
    list_key = _list_key(context)
    if list_key is None or context.get("messages") or context.get("is_nav_sidebar_enabled"):
        return None
    return _key("admin-page", list_key, _page_inputs(context))


def _media(media) -> tuple | None:
    """The styles' and scripts' paths a Media draws (each drawn by {% static %}): rendering
    it for the key was a quarter of a millisecond."""
    return media and (media._css_lists, media._js_lists)


class CachedPageNode(template.Node):
    def __init__(self, nodelist):
        self.nodelist = nodelist

    def render(self, context):
        token = context.get("csrf_token")
        key = _page_key(context)
        if key is None or not token or token == "NOTPROVIDED":
            return self.nodelist.render(context)

        def draw() -> list[str]:
            """The page around its CSRF token: the token is this request's, never cached."""
            with context.push(csrf_token=_CSRF_SLOT):
                return self.nodelist.render(context).split(_CSRF_SLOT)

        # As {% csrf_token %} writes the token (format_html).
        return mark_safe(str(conditional_escape(token)).join(  # noqa: S308 - escaped markup
            recent.cached(key, draw, CACHE_SECONDS)))


@register.tag
def plangate_cached_page(parser, token):
    """``{% plangate_cached_page %}...{% endplangate_cached_page %}``: the changelist's whole
    page (accounts/templates/admin/plangate_change_list.html), kept under _page_key (recent:
    in this process and in the shared cache)."""
    nodelist = parser.parse(("endplangate_cached_page",))
    parser.delete_first_token()
    return CachedPageNode(nodelist)
