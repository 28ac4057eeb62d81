"""The admins' audit pages: filters, per-plan timeline, streamed exports, and who may see them.

Decision: the audit trail (list, timeline, CSV / JSON Lines exports) is for the Admins group only
(403 for anyone else signed in). The approval certificate of an approved plan, and its Markdown
export, are visible to every signed-in user, like the plan itself: approvals are not secret.
"""

import csv
import io
import json
import re
from datetime import UTC, date, datetime
from unittest import mock

import pytest
from django.urls import reverse

from audit.log import log
from audit.models import AuditEntry
from plans.services import plan_create
from tests.audit_support import approve_through_services
from tests.factories import AuthorFactory


def body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def trail(author, admin_user):
    """Two plans by two authors, entries on three different days."""
    bob = AuthorFactory(username="bob")
    days = iter([datetime(2026, 3, d, 12, tzinfo=UTC) for d in (1, 2, 3, 4)])
    clock = mock.Mock(now=lambda: next(days))
    with mock.patch("audit.log.timezone", clock):  # only log()'s clock, not Django's
        alpha = plan_create(actor=author, title="Alpha")       # Mar 1
        beta = plan_create(actor=bob, title="=HYPERLINK(1)")  # Mar 2
        log("plan.edited", actor=author, obj=alpha, plan=alpha, payload={"fields": ["x"]})  # 3
        log("comment.posted", actor=bob, obj=alpha, plan=alpha, payload={"body": "hi"})  # 4
    return {"alpha": alpha, "beta": beta, "bob": bob}


def listed_ids(response) -> list[int]:
    return [int(n) for n in re.findall(r'<span class="muted">#(\d+)</span>', body(response))]


def ids(**filters) -> list[int]:
    return list(AuditEntry.objects.filter(**filters).order_by("-id").values_list("id", flat=True))


def test_admin_sees_the_trail_newest_first(admin_client, trail):
    response = admin_client.get(reverse("audit:list"))
    assert response.status_code == 200
    assert listed_ids(response) == ids()[:50]
    assert "plan.created" in body(response)


@pytest.mark.parametrize("query, expected", [
    (lambda t: {"plan": t["alpha"].pk}, lambda t: ids(plan_id=t["alpha"].pk)),
    (lambda t: {"actor": "BOB"}, lambda t: ids(actor_repr="bob")),
    (lambda t: {"action": "plan.created"}, lambda t: ids(action="plan.created")),
    (lambda t: {"date_from": "2026-03-02", "date_to": "2026-03-03"},
     lambda t: ids(created_at__date__range=(date(2026, 3, 2), date(2026, 3, 3)))),
    (lambda t: {"plan": t["alpha"].pk, "actor": "alice", "date_to": "2026-03-03"},
     lambda t: ids(plan_id=t["alpha"].pk, actor_repr="alice",
                   created_at__date__lte=date(2026, 3, 3))),
], ids=["plan", "actor", "action", "date-range", "combined"])
def test_filters(admin_client, trail, query, expected):
    response = admin_client.get(reverse("audit:list"), query(trail))
    assert response.status_code == 200
    assert listed_ids(response) == expected(trail)
    assert listed_ids(response)


def test_reversed_date_range_is_a_form_error(admin_client, trail):
    response = admin_client.get(reverse("audit:list"),
                                {"date_from": "2026-03-04", "date_to": "2026-03-01"})
    assert response.status_code == 400
    assert "The start date is after the end date." in body(response)


def test_list_query_count_does_not_grow_with_entries(admin_client, trail,
                                                     django_assert_max_num_queries):
    for n in range(60):
        log("comment.posted", payload={"n": n}, plan=trail["alpha"])
    with django_assert_max_num_queries(12):
        assert admin_client.get(reverse("audit:list")).status_code == 200


def test_plan_timeline_lists_that_plan_oldest_first(admin_client, trail):
    alpha = trail["alpha"]
    response = admin_client.get(reverse("reviews:timeline", args=[alpha.pk]))
    assert response.status_code == 200
    assert listed_ids(response) == sorted(ids(plan_id=alpha.pk))
    assert "HYPERLINK" not in body(response)


def test_timeline_of_unknown_plan_is_404(admin_client, db):
    assert admin_client.get(reverse("reviews:timeline", args=[999999])).status_code == 404


def test_csv_export_streams_the_filtered_set(admin_client, trail):
    response = admin_client.get(reverse("audit:export", args=["csv"]), {"actor": "bob"})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert [int(r["id"]) for r in rows] == sorted(ids(actor_repr="bob"))
    created = next(r for r in rows if r["action"] == "plan.created")
    assert created["object_repr"] == "'=HYPERLINK(1)"  # no formula reaches a spreadsheet
    assert json.loads(created["payload"])["title"] == "=HYPERLINK(1)"


def test_jsonl_export_is_one_faithful_json_object_per_line(admin_client, trail):
    response = admin_client.get(reverse("audit:export", args=["jsonl"]),
                                {"plan": trail["alpha"].pk})
    assert response.status_code == 200 and response.streaming
    lines = [json.loads(line) for line in body(response).splitlines()]
    assert [line["id"] for line in lines] == sorted(ids(plan_id=trail["alpha"].pk))
    first = AuditEntry.objects.get(pk=lines[0]["id"])
    assert lines[0]["entry_hash"] == first.entry_hash
    assert lines[0]["created_at"] == first.created_at.isoformat()


def test_export_with_bad_filter_is_400(admin_client, db):
    response = admin_client.get(reverse("audit:export", args=["csv"]), {"plan": "abc"})
    assert response.status_code == 400
    assert "Invalid filter" in body(response)


def test_unknown_export_format_is_404(admin_client, db):
    assert admin_client.get(reverse("audit:export", args=["xml"])).status_code == 404


AUDIT_PAGES = [
    ("audit:list", []), ("reviews:timeline", ["plan"]), ("audit:export", ["csv"]),
    ("audit:export", ["jsonl"]),
]


@pytest.mark.parametrize("name, args", AUDIT_PAGES)
@pytest.mark.parametrize("who", ["author", "reviewer"])
def test_non_admins_get_403_on_every_audit_page(client, request, trail, name, args, who):
    client.force_login(request.getfixturevalue(who))
    args = [trail["alpha"].pk if a == "plan" else a for a in args]
    response = client.get(reverse(name, args=args))
    assert response.status_code == 403
    assert b"Alpha" not in response.content


def test_audit_link_in_nav_for_admins_only(client, admin_user, author, reviewer):
    approved, _ = approve_through_services(author=author, reviewer=reviewer)
    url = reverse("reviews:certificate", args=[approved.pk])
    audit_link = f'href="{reverse("audit:list")}"'
    client.force_login(admin_user)
    assert audit_link in body(client.get(url))
    client.force_login(author)
    assert audit_link not in body(client.get(url))


# --- approval certificate ---------------------------------------------------------------------
@pytest.fixture
def approved(author, reviewer):
    plan, review = approve_through_services(author=author, reviewer=reviewer,
                                            comment="Solid rollback.")
    return plan, review


@pytest.mark.parametrize("who", ["author", "reviewer2", "admin_user"])
def test_certificate_is_visible_to_every_signed_in_user(client, request, approved, who):
    plan, review = approved
    client.force_login(request.getfixturevalue(who))
    response = client.get(reverse("reviews:certificate", args=[plan.pk]))
    assert response.status_code == 200
    text = body(response)
    assert review.revision.content_hash in text
    # The approver by name and by unique username: a self-chosen full name cannot pass for
    # someone else's.
    assert f"<h2>{review.reviewer.get_full_name()} <span class=\"muted\">@rob</span></h2>" in text
    assert "Solution addresses the problem completely" in text
    assert "Default: 1 approval" in text
    assert review.decided_at.strftime("%Y-%m-%d %H:%M:%S") in text


def test_approved_plan_page_links_to_its_certificate(client, author, approved):
    plan, _review = approved
    client.force_login(author)
    certificate = reverse("reviews:certificate", args=[plan.pk])
    assert f'href="{certificate}"' in body(client.get(plan.get_absolute_url()))


def test_certificate_shows_the_policy_in_force_at_approval(client, author, approved):
    """A later policy edit does not rewrite history: the certificate keeps the recorded one."""
    from reviews.models import ReviewPolicy

    plan, _review = approved
    ReviewPolicy.objects.update(name="Stricter", min_approvals=3)
    client.force_login(author)
    text = body(client.get(reverse("reviews:certificate", args=[plan.pk])))
    assert "Default: 1 approval" in text
    assert "Stricter" not in text
    assert "did not record one" not in text


def test_certificate_markdown_uses_the_approval_block(client, author, approved):
    plan, review = approved
    client.force_login(author)
    response = client.get(reverse("reviews:certificate_markdown", args=[plan.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/markdown")
    text = body(response)
    name = review.reviewer.get_full_name() or "rob"
    assert re.search(
        rf"^## Approval\n\*\*Reviewer\*\*: {re.escape(name)} \(rob\)\n"
        rf"\*\*Date\*\*: {review.decided_at:%Y-%m-%d %H:%M:%S} UTC\n"
        r"\*\*Status\*\*: APPROVED\n\*\*Comments\*\*:\nSolid rollback\.\n"
        r"- Technical Review / Solution addresses the problem completely: Yes\n",
        text, re.MULTILINE,
    ), text
    assert f"sha256:{review.revision.content_hash}" in text
    assert text.count("## Approval") == 1


@pytest.mark.parametrize("name", ["reviews:certificate", "reviews:certificate_markdown"])
def test_no_certificate_for_a_plan_that_is_not_approved(author_client, author, name):
    plan = plan_create(actor=author, title="Draft")
    assert author_client.get(reverse(name, args=[plan.pk])).status_code == 404
