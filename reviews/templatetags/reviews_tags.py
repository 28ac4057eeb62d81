import dataclasses
import datetime
import decimal
import enum
import functools
import hashlib
import uuid

from django import template
from django.conf import settings as django_settings
from django.db.models import Model
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from core.cache import RecentValues, SharedValue
from plans.models import Plan, PlanStatus, SubmissionRule
from plans.rendering import TOKEN_MARK, TOKEN_SLOT, templates_digest
from reviews import policy
from reviews.forms import reviewer_groups
from reviews.models import Decision
from reviews.selectors import panel_rows_key
from reviews.selectors import review_panel as load_panel

from .policy_tags import shared_policy

register = template.Library()

def _load_settings() -> dict:
    return {"submission_required": SubmissionRule.stored_keys(),
            "reviewer_groups": list(reviewer_groups())}


#: What the panel reads besides the plan: which sections submission requires (for "Before
#: submitting, fill in") and the groups "Request reviewers" offers. One shared value (one cache
#: round trip: core.cache.SharedValue), read afresh after any committed change of the rule, a
#: group, a user or a membership (signals connected in ReviewsConfig.ready call
#: ``settings_changed``).
_SETTINGS = SharedValue("review-panel-settings", _load_settings)


def settings_changed(sender=None, update_fields=None, **kwargs) -> None:
    # A login saves only last_login, which nothing here depends on: no new token for each one.
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    _SETTINGS.changed()


def _context(plan, user, *, csrf_token, described_policy=None) -> dict:
    """All the panel's templates are given (and all that _panel_key names but the token): what
    the viewer may do is in ``panel``, worked out for them."""
    settings = _SETTINGS.get()
    # The rule, as the panel's missing_for_submission reads it (Plan.submission_required).
    plan.submission_required = settings["submission_required"]
    panel = load_panel(plan, user, described_policy=described_policy)
    return {
        "plan": plan, "panel": panel,
        "groups": settings["reviewer_groups"] if panel.can_request else [],
        "csrf_token": csrf_token,
    }


def review_panel_cache_keys(plan) -> list[str]:
    """What the panel reads of the shared cache besides the plan's own entries: its settings,
    the active policy and the plan's reviews, concerns and requests (read ahead with the plan
    page's keys: plans/panels.py)."""
    rows = panel_rows_key(plan)
    return [*_SETTINGS.cache_keys(), *policy.active_policy_cache_keys(), *([rows] if rows else [])]


#: The panel's templates: their sources are in its key.
PANEL_TEMPLATES = ("reviews/includes/review_panel.html", "reviews/includes/reviewer_picker.html")
#: How long a panel is kept unread (any change of what it shows makes a new key).
PANEL_SECONDS = 60 * 60
#: This process's panels (1-3 kB each), in front of the shared cache: a page viewed again lays
#: nothing out and asks the cache for nothing more (core.cache.RecentValues: its key names
#: everything the panel shows).
recent_panels = RecentValues(size=1024)


class _Unkeyable(Exception):
    """A value the key cannot name faithfully: the panel is then laid out afresh."""


#: Values named by their repr (deterministic for these types).
_SIMPLE = frozenset({str, int, float, bool, type(None), datetime.datetime, datetime.date,
                     datetime.time, datetime.timedelta, decimal.Decimal, uuid.UUID})


def _plain(value, seen: dict):
    """``value`` as plain data naming everything the panel template may read of it, for its
    key. Model rows: every attribute set on them (their loaded columns, and whatever the code
    gave them) and the related rows loaded with them (never a query; not the password hash,
    which nothing shows, nor what starts with "_": Django's state and prefetched rows, which the
    template does not read). A plan: its id and status only, all the template reads of one
    (tests/reviews/test_review_panel_cache.py checks that), not its text. Dataclasses (Panel,
    PolicyStatus, Requirements, Missing): every field. A row met again (a review both in
    ``reviews`` and ``status.approvals``) is named by where it was first met. Kept quick: it
    runs on every view (a panel with twenty reviews names some thousand values)."""
    kind = type(value)
    if kind in _SIMPLE:
        return value
    if kind is list or kind is tuple:
        return [item if type(item) in _SIMPLE else _plain(item, seen) for item in value]
    if isinstance(value, enum.Enum):
        return (kind.__name__, value.value)
    if isinstance(value, (str, int, float)):  # a SafeString, say
        return kind.__name__, str(value) if isinstance(value, str) else value
    if isinstance(value, (set, frozenset)):
        return sorted((_plain(item, seen) for item in value), key=repr)
    if isinstance(value, dict):
        return [(_plain(k, seen), _plain(v, seen)) for k, v in value.items()]
    if id(value) in seen:
        return ("seen", seen[id(value)])
    if isinstance(value, Plan):
        return ("plan", value.pk, value.status)
    if isinstance(value, Model):
        seen[id(value)] = len(seen)
        named = [value._meta.label]
        for name, item in value.__dict__.items():
            if name[0] != "_" and name != "password":
                named.append(name)
                named.append(item if type(item) in _SIMPLE else _plain(item, seen))
        for name, row in value._state.fields_cache.items():
            named.append(name)
            named.append(_plain(row, seen))
        return named
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        seen[id(value)] = len(seen)
        return [kind.__name__, *(_plain(getattr(value, f.name), seen)
                                 for f in dataclasses.fields(value))]
    raise _Unkeyable(kind.__name__)


@functools.cache
def _wording() -> str:
    """The words the panel shows that its values only name (a shortfall's message, a status's
    and a decision's label): in the key, so a release that rewords them lays panels out afresh
    (the shared cache outlives a process). Code: the same for the life of a process."""
    labels = [(value, str(label)) for value, label in (*PlanStatus.choices, *Decision.choices)]
    return hashlib.sha256(repr([sorted(map(repr, policy.MESSAGES.items())), labels])
                          .encode()).hexdigest()[:16]


def _panel_key(context: dict) -> str | None:
    """Where the panel laid out from ``context`` is kept: every value its templates read
    (``plan``, ``panel``, ``groups``; the CSRF token is put in afterwards) and what else their
    output depends on (the language the statuses are named in, the URL prefix and urlconf of
    the {% url %} tags, the templates' sources and the panel's wording). None when a value
    cannot be named."""
    plan = context["plan"]
    try:
        shown = _plain([plan, context["panel"], context["groups"]], {})
    except _Unkeyable:
        return None
    shown += [get_language(), get_script_prefix(), get_urlconf() or django_settings.ROOT_URLCONF]
    digest = hashlib.sha256(repr(shown).encode()).hexdigest()
    return f"reviews:panel:{templates_digest(PANEL_TEMPLATES)}:{_wording()}:{plan.pk}:{digest}"


def review_panel_html(request, plan, shared: dict) -> str:
    """The review side of a plan page: state, whose turn it is, what is missing, actions
    (registered in plans.panels by ReviewsConfig.ready). A fixed number of queries however many
    reviews there are; the active policy comes from ``shared``, so the policy preview does not
    load it again. Laid out once per what it shows (``_panel_key``), with this response's CSRF
    token put in."""
    token = get_token(request)  # (always: it also has the response set the CSRF cookie)
    # The forms' CSRF token (plans.rendering.TOKEN_MARK): a new one is made for every response,
    # so the panel is kept laid out without it and each response puts its own in.
    context = _context(plan, request.user, csrf_token=TOKEN_MARK,
                       described_policy=shared_policy(shared))
    key = _panel_key(context)

    def render() -> str:
        return render_to_string(PANEL_TEMPLATES[0], context)

    html = render() if key is None else recent_panels.cached(key, render, PANEL_SECONDS)
    return mark_safe(TOKEN_SLOT.sub(lambda slot: token, html))  # noqa: S308 - the templates escape
