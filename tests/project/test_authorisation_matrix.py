"""The authorisation matrix: every URL the resolver knows, by every role, with the status each
cell must answer.

URLs are discovered from `get_resolver().url_patterns` (namespaced includes too), so a new URL
without a row in MATRIX fails `test_every_url_has_a_row` naming it. Each URL's kwargs point at
real objects built through the services, as a user would build them; each cell is one request
inside a rolled-back savepoint, so an allowed write does not change what the next role sees, and
a refused write must leave the rows and the audit log as they were.

Left out, because Django (or a package) serves them itself and they carry no Plangate rule:
- `admin:*` except `admin:index`: the Django admin's own model pages, all behind the same
  `admin_view` staff check that `admin:index` exercises here (tests/project/test_admin.py covers
  what the admin may change).
- static and media: `static()` adds MEDIA_URL only under DEBUG (not in tests); static files are
  WhiteNoise's, before any view.
- markdownx's own `upload/` and `markdownify/`: shadowed by config/urls.py's routes of the same
  name and path, which are in the matrix; the shadowed ones are unreachable.
"""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.roles import AUTHORS, REVIEWERS
from api.models import ApiToken
from api.services import token_create
from audit.models import AuditEntry
from implementation import services as implementation_services
from notifications.models import Notification
from plans.markdown import export_plan
from plans.models import Plan, PlanEditor, PlanRevision
from plans.services import plan_submit, plan_withdraw
from reviews import services
from reviews.models import Comment, CommentEdit, Concern, Review, ReviewRequest
from tests.factories import AdminFactory, AuthorFactory, ReviewerFactory, ready_plan
from tests.reviewkit import approve, items_of, revise, submitted_plan

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "author", "coauthor", "other_author", "reviewer", "requested", "admin")
LOGIN = "login"  # a 302 to the login page (pages, for anonymous)
ADMIN_LOGIN = "admin-login"  # a 302 to the Django admin's login page


def row(default, **cells):
    """A row: `default` for every role, with the named roles' cells overridden."""
    return {role: cells.get(role, default) for role in ROLES}


def signed_in(status, **cells):
    """A page any signed-in user gets with `status`; anonymous is sent to the login page."""
    return row(status, anonymous=LOGIN, **cells)


def api(status, **cells):
    """An API endpoint any token holder gets with `status`; no token is a 401."""
    return row(status, anonymous=401, **cells)


def authors_only(ok, refused=403, anonymous=LOGIN):
    """The plan's author (and an admin) may; everyone else is refused."""
    return row(refused, anonymous=anonymous, author=ok, admin=ok)


# URL name -> (method, kwargs from the world, form/JSON data from the world or None).
# GET for pages; a harmless but valid POST where the URL is a write.
REQUESTS = {
    "home": ("GET", None, None),
    "insights:dashboard": ("GET", None, None),
    "insights:search": ("GET", None, None),
    "insights:insights": ("GET", None, None),
    "insights:insights_csv": ("GET", lambda w: {"figure": "decisions"}, None),
    "login": ("GET", None, None),
    "logout": ("POST", None, None),
    "profile": ("GET", None, None),
    "password_change": ("GET", None, None),
    "healthz": ("GET", None, None),
    "favicon": ("GET", None, None),
    "csp_report": ("POST", None, lambda w: {"csp-report": {"violated-directive": "script-src"}}),
    "admin:index": ("GET", None, None),
    "markdownx_upload": ("POST", None, None),
    "markdownx_markdownify": ("POST", None, lambda w: {"content": "*hi*"}),
    "plans:list": ("GET", None, None),
    "plans:create": ("GET", None, None),
    "plans:import": ("GET", None, None),
    "plans:template": ("GET", None, None),
    "plans:editor_steps": ("POST", None, lambda w: {"op": "add"}),
    "plans:editor_totals": ("POST", None, lambda w: {}),
    "plans:detail": ("GET", lambda w: {"pk": w["plan"].pk}, None),
    "plans:edit": ("GET", lambda w: {"pk": w["draft"].pk}, None),
    "plans:export": ("GET", lambda w: {"pk": w["plan"].pk}, None),
    "plans:start_from": ("POST", lambda w: {"pk": w["plan"].pk}, None),
    "plans:delete": ("POST", lambda w: {"pk": w["draft"].pk}, None),
    "plans:archive": ("POST", lambda w: {"pk": w["draft"].pk}, None),
    "plans:unarchive": ("POST", lambda w: {"pk": w["draft"].pk}, None),
    "plans:revisions": ("GET", lambda w: {"pk": w["plan"].pk}, None),
    "plans:diff": ("GET", lambda w: {"pk": w["approved"].pk}, None),  # two revisions
    "plans:revision": ("GET", lambda w: {"pk": w["plan"].pk, "number": 1}, None),
    "reviews:submit": ("POST", lambda w: {"plan_id": w["draft"].pk}, None),
    "reviews:withdraw": ("POST", lambda w: {"plan_id": w["plan"].pk}, None),
    "reviews:start": ("POST", lambda w: {"plan_id": w["plan"].pk}, None),
    "reviews:request": ("POST", lambda w: {"plan_id": w["plan"].pk},
                        lambda w: {"usernames": w["users"]["reviewer"].username}),
    "reviews:rerequest": ("POST", lambda w: {"plan_id": w["plan"].pk,
                                             "user_id": w["users"]["reviewer"].pk}, None),
    "reviews:reviewer_suggestions": ("GET", lambda w: {"plan_id": w["plan"].pk}, None),
    "reviews:concern_raise": ("POST", lambda w: {"plan_id": w["plan"].pk},
                              lambda w: {"title": "Matrix concern"}),
    "reviews:comments": ("GET", lambda w: {"plan_id": w["plan"].pk}, None),
    "reviews:comment_reply": ("POST", lambda w: {"pk": w["comment"].pk},
                              lambda w: {"body": "Agreed."}),
    "reviews:comment_edit": ("POST", lambda w: {"pk": w["comment"].pk},
                             lambda w: {"body": "Looks close to done."}),
    "reviews:thread_resolve": ("POST", lambda w: {"pk": w["comment"].pk}, None),
    "reviews:thread_reopen": ("POST", lambda w: {"pk": w["comment"].pk}, None),  # open: 409
    "api:comment_edit": ("POST", lambda w: {"pk": w["comment"].pk},
                         lambda w: {"body": "Looks close to done."}),
    "api:thread_resolve": ("POST", lambda w: {"pk": w["comment"].pk}, None),
    "api:thread_reopen": ("POST", lambda w: {"pk": w["comment"].pk}, None),
    "reviews:timeline": ("GET", lambda w: {"plan_id": w["plan"].pk}, None),
    "reviews:certificate": ("GET", lambda w: {"plan_id": w["approved"].pk}, None),
    "reviews:certificate_markdown": ("GET", lambda w: {"plan_id": w["approved"].pk}, None),
    "reviews:concern_resolve": ("POST", lambda w: {"pk": w["concern"].pk}, None),
    "reviews:review": ("GET", lambda w: {"pk": w["review"].pk}, None),
    "reviews:answer": ("POST", lambda w: {"pk": w["review"].pk},
                       lambda w: {"item": w["item"].pk, "answer": "yes"}),
    "reviews:decide": ("POST", lambda w: {"pk": w["review"].pk},
                       lambda w: {"decision": "NEEDS_REVISION", "comment": "Split step 1.",
                                  "revision": 1}),
    "audit:list": ("GET", None, None),
    "audit:export": ("GET", lambda w: {"fmt": "csv"}, None),
    "notifications:inbox": ("GET", None, None),
    "notifications:mark_read": ("POST", lambda w: {"pk": w["notification"].pk}, None),
    "notifications:mark_all_read": ("POST", None, None),
    "notifications:open": ("GET", lambda w: {"pk": w["notification"].pk}, None),
    "notifications:preferences": ("GET", None, None),
    "api:schema": ("GET", None, None),
    "api:docs": ("GET", None, None),
    "api:tokens": ("GET", None, None),
    "api:token_revoke": ("POST", lambda w: {"pk": w["token"].pk}, None),
    "api:plans": ("GET", None, None),
    "api:plan": ("GET", lambda w: {"pk": w["plan"].pk}, None),
    "api:plan_revise": ("POST", lambda w: {"pk": w["draft"].pk},
                        lambda w: {"markdown": w["draft_markdown"]}),
    "api:plan_submit": ("POST", lambda w: {"pk": w["draft"].pk}, None),
    "api:plan_withdraw": ("POST", lambda w: {"pk": w["plan"].pk}, None),
    "api:plan_markdown": ("GET", lambda w: {"pk": w["plan"].pk}, None),
    "api:plan_feedback": ("GET", lambda w: {"pk": w["plan"].pk}, None),
    "api:plan_reviews": ("GET", lambda w: {"pk": w["plan"].pk}, None),
    "api:plan_comments": ("GET", lambda w: {"pk": w["plan"].pk}, None),
    "api:plan_concerns": ("GET", lambda w: {"pk": w["plan"].pk}, None),
    "api:review": ("GET", lambda w: {"pk": w["review"].pk}, None),
    "api:review_answers": ("POST", lambda w: {"pk": w["review"].pk},
                           lambda w: {"item": w["item"].pk, "answer": "yes"}),
    "api:review_decision": ("POST", lambda w: {"pk": w["review"].pk},
                            lambda w: {"decision": "NEEDS_REVISION", "comment": "Split it.",
                                       "revision": 1}),
    "api:concern_resolve": ("POST", lambda w: {"pk": w["concern"].pk}, None),
    "api:verify": ("POST", None, lambda w: {"markdown": w["plan_markdown"]}),
    "api:approval": ("GET", lambda w: {"sha256": w["approved_sha256"]}, None),
    "api:not_found": ("GET", None, None),
    # After approval (implementation): start on the approved plan, finish, progress and amend
    # on the one being implemented, verify the implemented one.
    "implementation:record": ("GET", lambda w: {"plan_id": w["approved"].pk}, None),
    "implementation:start": ("POST", lambda w: {"plan_id": w["approved"].pk}, None),
    "implementation:finish": ("POST", lambda w: {"plan_id": w["implementing"].pk}, None),
    "implementation:verify": ("POST", lambda w: {"plan_id": w["implemented"].pk},
                              lambda w: {"outcome": "SENT_BACK", "comment": "Step 1 is open."}),
    "api:plan_implementation": ("GET", lambda w: {"pk": w["approved"].pk}, None),
    "api:plan_start": ("POST", lambda w: {"pk": w["approved"].pk}, None),
    "api:plan_finish": ("POST", lambda w: {"pk": w["implementing"].pk}, None),
    "api:plan_progress": ("POST", lambda w: {"pk": w["implementing"].pk},
                          lambda w: {"step": 1, "note": "done"}),
    "api:plan_drift": ("POST", lambda w: {"pk": w["approved"].pk},
                       lambda w: {"files": ["accounts/views.py"]}),
    "api:plan_amend": ("POST", lambda w: {"pk": w["implementing"].pk},
                       lambda w: {"markdown": w["amended_markdown"]}),
    "api:plan_verification": ("POST", lambda w: {"pk": w["implemented"].pk},
                              lambda w: {"outcome": "SENT_BACK", "comment": "Step 1 is open."}),
}

MATRIX: dict[str, dict[str, object]] = {
    # --- public, or the site's own entry points --------------------------------------------
    "home": signed_in(200),  # the dashboard (insights:dashboard)
    "insights:dashboard": signed_in(200),  # each role sees its own part
    "insights:search": signed_in(200),  # results: the plans the user may see (all, today)
    # Reviewers see their own figures, admins everyone's; the co-author is a reviewer too.
    "insights:insights": row(403, anonymous=LOGIN, coauthor=200, reviewer=200, requested=200,
                             admin=200),
    "insights:insights_csv": row(403, anonymous=LOGIN, coauthor=200, reviewer=200,
                                 requested=200, admin=200),
    "login": row(302, anonymous=200),  # a signed-in user is sent on
    "logout": row(LOGIN),  # POST; everyone ends on the login page
    "healthz": row(200),
    "favicon": row(200),
    "csp_report": row(204),  # browsers report from any page, signed in or not
    "admin:index": row(ADMIN_LOGIN, admin=200),
    "api:schema": row(200),  # the API's description is public (login_not_required)
    "api:docs": row(200),
    # A token-less request to an unknown API path learns nothing by a 404 (AllowAny there).
    "api:not_found": row(404),
    # --- any signed-in user --------------------------------------------------------------------
    "markdownx_upload": signed_in(400),  # harmless POST without a file: a 4xx, never a 500
    "markdownx_markdownify": signed_in(200),
    "plans:list": signed_in(200),
    "profile": signed_in(200),  # one's own account only: there is no other user's profile
    "password_change": signed_in(200),
    "plans:create": signed_in(200),
    "plans:import": signed_in(200),
    "plans:template": signed_in(200),
    "plans:editor_steps": signed_in(200),
    "plans:editor_totals": signed_in(200),
    # Every signed-in user may read every plan (plans.permissions.can_view).
    "plans:detail": signed_in(200),
    "plans:export": signed_in(200),
    "plans:revisions": signed_in(200),
    "plans:diff": signed_in(200),
    "plans:revision": signed_in(200),
    "reviews:comments": signed_in(200),
    # Whoever may see the plan may reply (reviews.permissions.can_comment).
    "reviews:comment_reply": signed_in(302),
    "reviews:certificate": signed_in(200),
    "reviews:certificate_markdown": signed_in(200),
    "reviews:review": signed_in(200),
    "notifications:inbox": signed_in(200),
    "notifications:preferences": signed_in(200),
    # Marking all read is always allowed; it changes only the caller's own rows.
    "notifications:mark_all_read": signed_in(302),
    "api:tokens": signed_in(200),
    "api:plans": api(200),
    "api:plan": api(200),
    "api:plan_markdown": api(200),
    "api:plan_feedback": api(200),
    "api:plan_reviews": api(200),
    "api:plan_comments": api(200),
    "api:plan_concerns": api(200),
    "api:review": api(200),
    "api:verify": api(200),
    "api:approval": api(200),
    # --- the plan's author, or an admin (a co-author edited it but does not own it) ----------
    "plans:edit": authors_only(200),
    # A never-submitted draft: deleted or archived by its author or an admin (302 to the list
    # or the plan); unarchiving a plan that is not archived changes nothing, for the same roles.
    "plans:delete": authors_only(302),
    "plans:archive": authors_only(302),
    "plans:unarchive": authors_only(302),
    "reviews:submit": authors_only(302),
    "reviews:withdraw": authors_only(302),
    "reviews:request": authors_only(302),
    # Asking a reviewer again (they reviewed the plan, and have not decided on this revision).
    "reviews:rerequest": authors_only(302),
    # A new draft from a plan's content (offered on a rejected plan): its author or an admin.
    "plans:start_from": authors_only(302),
    "reviews:reviewer_suggestions": authors_only(200),  # who may request sees who may review
    "api:plan_revise": authors_only(200, anonymous=401),
    "api:plan_submit": authors_only(200, anonymous=401),
    "api:plan_withdraw": authors_only(200, anonymous=401),
    # --- reviewers: never the author or an editor; an admin reviews only as a reviewer -------
    # The reviewer already has a review of this revision (302, nothing new); the requested
    # reviewer starts one.
    "reviews:start": row(403, anonymous=LOGIN, reviewer=302, requested=302),
    # Any reviewer, or an admin, may block a plan with a concern; its author and editors not.
    "reviews:concern_raise": row(403, anonymous=LOGIN, reviewer=302, requested=302, admin=302),
    # Only the concern's raiser, or an admin, resolves it.
    "reviews:concern_resolve": row(403, anonymous=LOGIN, reviewer=302, admin=302),
    "api:concern_resolve": row(403, anonymous=401, reviewer=200, admin=200),
    # A review is answered and decided only by its own reviewer, not even by an admin.
    "reviews:answer": row(403, anonymous=LOGIN, reviewer=302),
    "reviews:decide": row(403, anonymous=LOGIN, reviewer=302),
    "api:review_answers": row(403, anonymous=401, reviewer=200),
    "api:review_decision": row(403, anonymous=401, reviewer=200),
    # --- comments: only its author edits it (for 15 minutes); the plan's author, co-authors
    # and reviewers resolve and reopen threads. Reopening the open thread: 409 (302 + message
    # in the browser) for them, 403 for everyone else.
    "reviews:comment_edit": row(403, anonymous=LOGIN, reviewer=302),
    "api:comment_edit": row(403, anonymous=401, reviewer=200),
    "reviews:thread_resolve": row(403, anonymous=LOGIN, author=302, coauthor=302, reviewer=302,
                                  requested=302),
    "reviews:thread_reopen": row(403, anonymous=LOGIN, author=302, coauthor=302, reviewer=302,
                                 requested=302),
    "api:thread_resolve": row(403, anonymous=401, author=200, coauthor=200, reviewer=200,
                              requested=200),
    "api:thread_reopen": row(403, anonymous=401, author=409, coauthor=409, reviewer=409,
                             requested=409),
    # --- admins only --------------------------------------------------------------------------
    "audit:list": row(403, anonymous=LOGIN, admin=200),
    "audit:export": row(403, anonymous=LOGIN, admin=200),
    "reviews:timeline": row(403, anonymous=LOGIN, admin=200),  # built from the audit log
    # --- one's own rows: someone else's is a 404, not a 403 (its existence is not confirmed) -
    "notifications:mark_read": row(404, anonymous=LOGIN, author=302),
    "notifications:open": row(404, anonymous=LOGIN, author=302),  # marks read, then goes there
    "api:token_revoke": row(404, anonymous=LOGIN, author=302),
    # --- after approval: the author (or a co-author of that plan) implements; a reviewer who
    # neither wrote nor edited it verifies (the co-author here edited other plans only) -------
    "implementation:record": signed_in(200),
    "api:plan_implementation": api(200),
    "implementation:start": row(403, anonymous=LOGIN, author=302),
    "implementation:finish": row(403, anonymous=LOGIN, author=302),
    "api:plan_start": row(403, anonymous=401, author=200),
    "api:plan_finish": row(403, anonymous=401, author=200),
    "api:plan_progress": row(403, anonymous=401, author=201),
    "api:plan_amend": row(403, anonymous=401, author=200),
    "implementation:verify": row(403, anonymous=LOGIN, coauthor=302, reviewer=302,
                                 requested=302),
    "api:plan_verification": row(403, anonymous=401, coauthor=201, reviewer=201,
                                 requested=201),
    # A drift report is uploaded by the plan's implementers (their agent or CI token),
    # reviewers and admins; another author could otherwise post a "clean" report.
    "api:plan_drift": row(403, anonymous=401, author=201, coauthor=201, reviewer=201,
                          requested=201, admin=201),
}

# The status a signed-in author gets for the other method: every page and endpoint names the
# methods it takes (405 otherwise); the ones taking both GET and POST are left out.
WRONG_METHOD_OK = {"home", "login", "profile", "password_change", "plans:create",
                   "plans:import", "plans:edit", "reviews:comments", "notifications:preferences",
                   "api:tokens", "api:plans", "api:plan_reviews", "api:plan_comments",
                   "api:plan_concerns", "api:not_found"}

# Reversing the catch-all regex gives no useful path; this is one it answers for.
PATHS = {"api:not_found": "/api/v1/no-such-thing"}


def discovered_url_names(patterns=None, namespace=""):
    """Every named URL pattern, with its namespace, in resolver order."""
    names = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}{pattern.namespace}:"
            names += discovered_url_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            names.append(f"{namespace}{pattern.name or pattern.pattern}")
    return names


def in_matrix_scope(name: str) -> bool:
    return not name.startswith("admin:") or name == "admin:index"


def _world(django_capture_on_commit_callbacks) -> dict:
    """One shared set of objects: a plan under review (review, concern, comment, a named review
    request, a revision), a draft, an approved plan, and a token and a notification each."""
    users = {
        "author": AuthorFactory(username="mx-author"),
        # Edited the plan (a PlanEditor) and is a reviewer too: must never review it.
        "coauthor": AuthorFactory(username="mx-coauthor", roles=(AUTHORS, REVIEWERS)),
        "other_author": AuthorFactory(username="mx-other"),
        "reviewer": ReviewerFactory(username="mx-reviewer"),
        "requested": ReviewerFactory(username="mx-requested"),
        "admin": AdminFactory(username="mx-admin"),
    }
    author, reviewer = users["author"], users["reviewer"]
    with django_capture_on_commit_callbacks(execute=True):
        draft = ready_plan(author=author, title="Matrix draft")
        PlanEditor.objects.create(plan=draft, user=users["coauthor"])
        approved = submitted_plan(author, title="Matrix approved")
        plan_withdraw(actor=author, plan=approved)
        approved = revise(approved, author, "Logins are slow at peak.")  # a second revision
        plan_submit(actor=author, plan=approved)
        approve(approved, reviewer)
        approved.refresh_from_db()
        plan = submitted_plan(author, title="Matrix under review")
        # The co-author edited this plan's content before it was submitted (no service makes
        # someone else an editor of a plan they cannot edit; the row is what editing leaves).
        PlanEditor.objects.create(plan=plan, user=users["coauthor"])
        services.review_request(actor=author, plan=plan, users=[users["requested"]])
        review = services.review_start(actor=reviewer, plan=plan)
        concern = services.concern_raise(actor=reviewer, plan=plan, title="Rollback is vague")
        comment = services.comment_post(actor=reviewer, plan=plan, body="Looks close.")
        implementing = submitted_plan(author, title="Matrix implementing")
        approve(implementing, reviewer)
        implementation_services.implementation_start(actor=author, plan=implementing)
        implemented = submitted_plan(author, title="Matrix implemented")
        approve(implemented, reviewer)
        implementation_services.implementation_start(actor=author, plan=implemented)
        implementation_services.implementation_finish(actor=author, plan=implemented)
    tokens = {role: token_create(actor=u, user=u, name=f"{role}-matrix") for role, u in
              users.items()}
    return {
        "users": users, "clients": {},
        "plan": plan, "draft": draft, "approved": approved, "review": review,
        "implementing": implementing, "implemented": implemented,
        "amended_markdown": export_plan(implementing).replace(
            implementing.problem_statement, "Logins are slower than ever.", 1),
        "concern": concern, "item": items_of(review)[0], "comment": comment,
        "token": tokens["author"][0], "raw_tokens": {r: t[1] for r, t in tokens.items()},
        "notification": Notification.objects.filter(recipient=author).order_by("id").first(),
        "plan_markdown": export_plan(plan), "draft_markdown": export_plan(draft),
        "approved_sha256": PlanRevision.objects.filter(plan=approved).latest("number").content_hash,
    }


def _snapshot() -> tuple:
    """What a refused write must leave as it was: rows, states and the audit log's length."""
    return (
        AuditEntry.objects.count(), Plan.objects.count(),
        tuple(Plan.objects.order_by("pk").values_list("status", flat=True)),
        PlanRevision.objects.count(), Review.objects.count(),
        tuple(Review.objects.order_by("pk").values_list("decision", flat=True)),
        Comment.objects.count(), Concern.objects.filter(resolved_at__isnull=True).count(),
        CommentEdit.objects.count(), Comment.objects.filter(resolved_at__isnull=False).count(),
        ReviewRequest.objects.count(), ApiToken.objects.filter(revoked_at__isnull=True).count(),
        Notification.objects.filter(read_at__isnull=True).count(), Group.objects.count(),
        Plan.objects.filter(archived_at__isnull=False).count(),
    )


def _request(world, name: str, role: str, method: str | None = None):
    default_method, kwargs, data = REQUESTS[name]
    method = method or default_method
    path = PATHS.get(name) or reverse(name, kwargs=kwargs(world) if kwargs else None)
    if role not in world["clients"]:  # one per role: each new Client rebuilds the middleware
        world["clients"][role] = Client()
    client = world["clients"][role]
    client.cookies.clear()
    headers = {}
    is_api = name.startswith("api:") and name not in ("api:tokens", "api:token_revoke")
    if role != "anonymous":
        if is_api:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {world['raw_tokens'][role]}"
        else:
            client.force_login(world["users"][role])
    payload = data(world) if data else {}
    if method == "GET":
        return client.get(path, **headers)
    if is_api or name == "csp_report":
        return client.post(path, json.dumps(payload), content_type="application/json", **headers)
    return client.post(path, payload, **headers)


def _cell(world, name: str, role: str, method: str | None = None):
    """(status or LOGIN/ADMIN_LOGIN, whether a write happened); rolled back either way."""
    before = _snapshot()
    with transaction.atomic():
        try:
            response = _request(world, name, role, method)
        except Exception as error:  # a server error, shown as the 500 it would be
            return 500, repr(error)
        status = response.status_code
        if status == 302:
            location = response["Location"]
            if location.startswith(reverse("admin:login")):
                status = ADMIN_LOGIN
            elif location.startswith(reverse("login")):
                status = LOGIN
        changed = _snapshot() != before
        transaction.set_rollback(True)
    return status, changed



@pytest.fixture
def world(django_capture_on_commit_callbacks):
    return _world(django_capture_on_commit_callbacks)


def test_every_url_has_a_row():
    """A URL the resolver serves must have its row: a new one fails here, by name."""
    names = [n for n in discovered_url_names() if in_matrix_scope(n)]
    missing = sorted(set(names) - set(MATRIX))
    assert not missing, f"URLs with no row in the authorisation matrix: {missing}"
    stale = sorted(set(MATRIX) - set(names))
    assert not stale, f"Matrix rows for URLs that no longer exist: {stale}"
    assert set(REQUESTS) == set(MATRIX)
    assert all(set(cells) == set(ROLES) for cells in MATRIX.values())


def test_admin_internals_are_left_out_only_by_name():
    """Leaving `admin:*` out is safe only while every one of them sits behind the admin site."""
    names = discovered_url_names()
    assert "admin:index" in names and "admin:login" in names
    assert len([n for n in names if not in_matrix_scope(n)]) > 10  # the model pages, left out


@pytest.mark.parametrize("role", ROLES)
def test_authorisation_matrix(world, role):
    """Every URL as this role answers its cell; a refused write changes nothing."""
    wrong, changed_on_refusal = [], []
    for name, cells in MATRIX.items():
        status, changed = _cell(world, name, role)
        if status != cells[role]:
            wrong.append(f"{name}: expected {cells[role]}, got {status}"
                         + (f" ({changed})" if isinstance(changed, str) else ""))
        if isinstance(status, int) and status >= 400 and changed:
            changed_on_refusal.append(f"{name}: {status} but rows or the audit log changed")
    assert not wrong, f"{role}: " + "; ".join(wrong)
    assert not changed_on_refusal, f"{role}: " + "; ".join(changed_on_refusal)


def test_allowed_writes_do_write(world):
    """The matrix's harmless POSTs are real writes where allowed: a 2xx/3xx to a write changed
    a row, so a refusal elsewhere is not a form that was never valid."""
    writes = {
        "reviews:submit": "author", "reviews:withdraw": "author", "reviews:request": "author",
        "reviews:rerequest": "author", "plans:start_from": "author",
        "reviews:start": "requested", "reviews:concern_raise": "reviewer",
        "reviews:concern_resolve": "reviewer", "reviews:answer": "reviewer",
        "reviews:decide": "reviewer", "notifications:mark_read": "author",
        "notifications:open": "author", "plans:delete": "author", "plans:archive": "author",
        "api:token_revoke": "author", "api:plan_submit": "author",
        "api:plan_withdraw": "admin", "api:review_answers": "reviewer",
        "api:review_decision": "reviewer", "api:concern_resolve": "admin",
        "implementation:start": "author", "implementation:finish": "author",
        "implementation:verify": "reviewer", "api:plan_start": "author",
        "api:plan_finish": "author", "api:plan_progress": "author", "api:plan_drift": "reviewer",
        "api:plan_amend": "author", "api:plan_verification": "reviewer",
    }
    silent = [name for name, role in writes.items() if _cell(world, name, role)[1] is not True]
    assert not silent, f"Allowed writes that changed nothing: {silent}"


def test_wrong_method_is_405(world):
    wrong, changed_by_wrong = [], []
    for name, (method, _kwargs, _data) in REQUESTS.items():
        if name in WRONG_METHOD_OK or name == "admin:index":
            continue
        other = "GET" if method == "POST" else "POST"
        status, changed = _cell(world, name, "author", method=other)
        if changed is True:
            changed_by_wrong.append(name)
        if status != 405:
            wrong.append(f"{name} {other}: {status}")
    assert not changed_by_wrong, f"A wrong-method request wrote something: {changed_by_wrong}"
    assert not wrong, "Expected 405 for the wrong method: " + "; ".join(wrong)
