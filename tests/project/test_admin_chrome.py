"""The plan changelist kept whole in the cache (accounts/templatetags/plangate_admin.py,
{% plangate_cached_page %}): after every change a user could notice, the page served is the page
drawn afresh for the same request with the cache off, and each of the page's inputs is needed
for that (a key without it serves the page from before the change)."""

import datetime
import re
from contextlib import contextmanager
from types import SimpleNamespace
from unittest import mock

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.template.loader import render_to_string
from django.test import Client, override_settings
from django.test.utils import override_script_prefix
from django.urls import reverse
from django.utils import timezone, translation

from accounts.roles import ADMINS
from accounts.templatetags import plangate_admin
from core import cache as shared_cache
from plans.admin import PlanAdmin
from plans.models import Plan, PlanStatus
from plans.services import plan_create, plan_submit
from tests.factories import AdminFactory, UserFactory, ready_plan

URL = reverse("admin:plans_plan_changelist")
NO_CACHE = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
CSRF_VALUE = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+"')


def _tokenless(page: str) -> str:
    return CSRF_VALUE.sub(r'\1"', page)


def _served_and_fresh(client, **extra) -> tuple[str, str]:
    """(the page served, the same request's page drawn with the caches off: the shared one and
    this process's), without the CSRF tokens (each drawing masks its own)."""
    response = client.get(URL, **extra)
    assert response.status_code == 200
    with (override_settings(CACHES=NO_CACHE),
          mock.patch.object(plangate_admin, "recent", shared_cache.RecentValues(size=0))):
        fresh = render_to_string(PlanAdmin.change_list_template, response.context_data,
                                 request=response.wsgi_request)
    return _tokenless(response.content.decode()), _tokenless(fresh)


@pytest.fixture
def env(client, author, monkeypatch, settings):
    """An admin greeted by their username (no first name), signed in, and a plan listed."""
    plan_create(actor=author, title="Listed")
    user = AdminFactory(username="ada", first_name="")
    client.force_login(user)
    return SimpleNamespace(client=client, user=user, monkeypatch=monkeypatch, settings=settings,
                           extra={})


# Each input of the page (plangate_admin._page_inputs), changed as it changes for a user: while
# the change lasts, the page shows what it should.
@contextmanager
def _short_name(env):
    env.user.first_name = "Adeline"
    env.user.save()
    yield lambda page: "<strong>Adeline</strong>" in page


@contextmanager
def _username(env):
    env.user.username = "ada-renamed"
    env.user.save()
    yield lambda page: "<strong>ada-renamed</strong>" in page


@contextmanager
def _usable_password(env):
    env.user.set_unusable_password()  # (signed in another way: a new session)
    env.user.save()
    env.client.force_login(env.user)
    yield lambda page: reverse("admin:password_change") not in page


@contextmanager
def _title(env):
    """Allowed to change plans: "Select plan to change", no longer "to view"."""
    env.monkeypatch.setattr(PlanAdmin, "has_change_permission", lambda *args, **kwargs: True)
    yield lambda page: "<h1>Select plan to change</h1>" in page


def _site(attribute: str, value: str, shown: str):
    """The admin site's ``attribute`` set to ``value``: the page shows ``shown``."""
    @contextmanager
    def change(env):
        env.monkeypatch.setattr(admin.site, attribute, value)
        yield lambda page: shown in page
    return change


_site_header = _site("site_header", "Plangate administration", ">Plangate administration</a>")
_site_title = _site("site_title", "Plangate site admin", "| Plangate site admin</title>")
_site_url = _site("site_url", "/home/", '<a href="/home/">View site</a>')


@contextmanager
def _media(env):
    env.settings.DEBUG = True  # the admin's scripts unminified
    yield lambda page: "admin/js/vendor/jquery/jquery.js" in page


@contextmanager
def _admin_options(env):
    """A deployment's new option of the plan admin."""
    env.monkeypatch.setattr(PlanAdmin, "search_help_text", "Search titles and authors")
    yield lambda page: "Search titles and authors" in page


PAGE_CHANGES = {
    "short_name": _short_name, "username": _username, "usable_password": _usable_password,
    "title": _title, "site_header": _site_header, "site_title": _site_title,
    "site_url": _site_url, "media": _media, "admin_options": _admin_options,
}
# Inputs no test here changes, and why.
NOT_CHANGED = {
    "subtitle": "Django's changelist has none",
    "has_permission": "the admin serves its pages only to users it lets in",
    "is_anonymous": "as has_permission", "is_active": "as has_permission",
    "is_staff": "as has_permission",
    "static_manifest": "a deployment's collectstatic: the tests' storage has no manifest",
    "utc_offset": "changes with the time: test_the_page_key_follows_the_utc_offset",
    "django": "a deployment's Django release",
}


@pytest.mark.parametrize("name", PAGE_CHANGES)
def test_the_page_shows_each_change_to_its_inputs_at_once(env, name):
    served, fresh = _served_and_fresh(env.client)  # drawn, then kept
    assert served == fresh
    assert _served_and_fresh(env.client)[0] == served  # from the cache
    with PAGE_CHANGES[name](env) as shows:
        served, fresh = _served_and_fresh(env.client)
        assert served == fresh
        assert shows(served)


@pytest.mark.parametrize("name", PAGE_CHANGES)
def test_a_page_key_without_an_input_serves_the_page_from_before_its_change(env, name):
    """What the test above proves: with the input left out of the key, the page is stale."""
    inputs = plangate_admin._page_inputs
    env.monkeypatch.setattr(plangate_admin, "_page_inputs",
                            lambda context: {**inputs(context), name: None})
    _served_and_fresh(env.client)
    with PAGE_CHANGES[name](env) as shows:
        served, fresh = _served_and_fresh(env.client)
        assert served != fresh and not shows(served)


def test_every_input_of_the_page_is_changed_here_or_said_why_not(env):
    seen = []
    inputs = plangate_admin._page_inputs
    env.monkeypatch.setattr(plangate_admin, "_page_inputs",
                            lambda context: seen.append(found := inputs(context)) or found)
    env.client.get(URL)
    assert set(seen[0]) == set(PAGE_CHANGES) | set(NOT_CHANGED)


def test_the_page_key_follows_the_utc_offset(env, monkeypatch):
    """Paris on the night it moves to summer time: the same day, another offset
    (base.html's data-admin-utc-offset)."""
    response = env.client.get(URL)
    keys = []
    with timezone.override("Europe/Paris"):
        for utc in (datetime.datetime(2026, 3, 29, 0, 30, tzinfo=datetime.UTC),
                    datetime.datetime(2026, 3, 29, 2, 0, tzinfo=datetime.UTC)):
            monkeypatch.setattr(timezone, "now", lambda utc=utc: utc)
            context = response.context
            keys.append(plangate_admin._page_key(context))
    assert None not in keys and keys[0] != keys[1]


# What the page draws from through its list (the language, the time zone, the script prefix,
# the user's actions) and what it never keeps (messages).
@pytest.mark.parametrize(("ambient", "shows"), [
    (lambda: translation.override("fr"), lambda page: 'lang="fr"' in page
     and "Bienvenue" in page),
    (lambda: timezone.override("Asia/Kolkata"),
     lambda page: 'data-admin-utc-offset="19800"' in page),
    (lambda: override_script_prefix("/plangate/"),
     lambda page: 'href="/plangate/admin/"' in page and '<a href="/plangate">View site' in page),
], ids=["language", "time zone", "script prefix"])
def test_the_page_is_drawn_in_each_requests_language_time_zone_and_script_prefix(env, ambient,
                                                                                  shows):
    _served_and_fresh(env.client)
    with ambient():
        served, fresh = _served_and_fresh(env.client, SCRIPT_NAME="/plangate")
    assert served == fresh and shows(served)
    served, fresh = _served_and_fresh(env.client)
    assert served == fresh and not shows(served)


def test_joining_and_leaving_the_admins_shows_and_hides_their_actions_at_once(client, author):
    plan_create(actor=author, title="Listed")
    user = UserFactory(username="sam", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_plan"))
    client.force_login(user)
    admins = Group.objects.get(name=ADMINS)
    for member in (False, True, False):
        if member:
            user.groups.add(admins)
        else:
            user.groups.remove(admins)
        served, fresh = _served_and_fresh(client)
        assert served == fresh
        assert ("Withdraw selected plans" in served) == member


def test_a_message_shows_once_on_the_page_after_an_action(env, author):
    plan = ready_plan(author=author, title="Pending")
    plan_submit(actor=author, plan=plan)
    _served_and_fresh(env.client)
    env.client.post(URL, {"action": "withdraw_plans", "_selected_action": [plan.pk]})
    served, fresh = _served_and_fresh(env.client)
    assert served == fresh and "Withdrew 1 plan(s)." in served
    served, fresh = _served_and_fresh(env.client)
    assert served == fresh and "Withdrew 1 plan(s)." not in served
    assert Plan.objects.get(pk=plan.pk).status == PlanStatus.DRAFT


def test_each_page_carries_its_own_csrf_token_in_both_forms(env):
    pages = []
    for _ in range(2):
        client = Client(enforce_csrf_checks=True)
        client.force_login(env.user)
        page = client.get(URL).content.decode()
        tokens = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page))
        assert len(tokens) == 1  # the log-out form's and the list's, this request's own
        pages.append(tokens.pop())
    assert pages[0] != pages[1]


def test_a_page_shown_again_by_the_same_process_needs_no_shared_cache(env, settings):
    served, fresh = _served_and_fresh(env.client)
    settings.CACHES = {"default": {"BACKEND": "core.cache_backend.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}  # nothing listens
    assert _served_and_fresh(env.client) == (served, fresh)


def test_the_process_keeps_only_its_newest_values():
    recent = shared_cache.RecentValues(size=2)
    with override_settings(CACHES=NO_CACHE):
        for key in ("a", "b", "a", "c"):  # "a" read again: "b" is the oldest
            recent.cached(f"test-recent:{key}", lambda key=key: key.upper(), 60)
        assert list(recent.values) == ["test-recent:a", "test-recent:c"]
        assert recent.cached("test-recent:b", lambda: "drawn again", 60) == "drawn again"


@pytest.mark.parametrize("keyed", [True, False])
def test_a_deployed_admin_template_is_shown_though_the_page_was_kept(env, tmp_path, keyed):
    """A deployment that overrides an admin template (here the site's branding): its new
    processes draw the page afresh, since the templates' sources are in every key. Without
    them in the key (keyed=False), the page kept from before is served."""
    if not keyed:
        env.monkeypatch.setattr(plangate_admin, "_admin_templates_digest", lambda: "")
    served, _ = _served_and_fresh(env.client)  # drawn, then kept
    (tmp_path / "admin").mkdir()
    (tmp_path / "admin" / "base_site.html").write_text(
        '{% extends "admin/base.html" %}{% block branding %}<p>Deployed branding</p>'
        "{% endblock %}")
    engine = env.settings.TEMPLATES[0]
    env.settings.TEMPLATES = [{**engine, "DIRS": [tmp_path, *engine["DIRS"]]}]
    if keyed:
        plangate_admin._admin_templates_digest.cache_clear()  # as a new process does
    try:
        again, fresh = _served_and_fresh(env.client)
    finally:
        env.settings.TEMPLATES = [engine]
        if keyed:
            plangate_admin._admin_templates_digest.cache_clear()
    assert "Deployed branding" in fresh
    assert (again == fresh) is keyed and (again == served) is not keyed
