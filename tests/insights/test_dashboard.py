"""The home page is a dashboard of what waits on the user, by role, in a fixed number of queries."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.display import display_name
from accounts.roles import AUTHORS, REVIEWERS
from notifications.models import Channel, OutboxMessage, OutboxStatus
from plans.models import Plan, PlanRevision, PlanStatus, PlanStep, RiskLevel
from reviews import services
from tests.factories import AuthorFactory, ReviewerFactory, ready_plan
from tests.insights.kit import clock, decide, submit
from tests.reviewkit import revise

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(author, reviewer, reviewer2, admin_user, django_capture_on_commit_callbacks):
    """alice: a draft, a plan sent back (rob's comment, an open concern), a plan waiting 30 hours
    (overdue) and one resubmitted after rob sent it back."""
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        draft = ready_plan(author=author, title="Draft about caching")
        back = ready_plan(author=author, title="Sent back plan")
        submit(back, author, now - timedelta(hours=5))
        with clock(now - timedelta(hours=4)):
            services.concern_raise(actor=reviewer, plan=back, title="Rollback is vague")
        decide(back, reviewer, "NEEDS_REVISION", now - timedelta(hours=3),
               comment="Split step 1 into two.")
        waiting = ready_plan(author=author, title="Waiting plan")
        PlanStep.objects.filter(plan=waiting).update(risk=RiskLevel.HIGH)
        submit(waiting, author, now - timedelta(hours=30))
        again = ready_plan(author=author, title="Resubmitted plan")
        submit(again, author, now - timedelta(hours=10))
        decide(again, reviewer, "NEEDS_REVISION", now - timedelta(hours=9), comment="Add tests.")
        again = revise(again, author, "Logins are slow at peak.")
        submit(again, author, now - timedelta(hours=2))
        OutboxMessage.objects.create(event="plan.submitted", channel=Channel.EMAIL,
                                     status=OutboxStatus.FAILED, recipient=reviewer,
                                     subject="alice submitted “Waiting plan”", attempts=5,
                                     last_error="SMTP refused")
    return {"draft": draft, "back": back, "waiting": waiting, "again": again}


def page(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("insights:dashboard"))
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, part: str) -> str:
    start = html.index(f'id="dash-{part}"')
    return html[start:html.index("</section>", start)]


def test_home_is_the_dashboard(client, author):
    client.force_login(author)
    assert client.get("/").status_code == 200
    assert reverse("insights:dashboard") == "/"


def test_author_sees_drafts_feedback_whose_turn_and_decisions(client, world, author, reviewer):
    html = page(client, author)
    assert 'id="dash-reviewer"' not in html and 'id="dash-admin"' not in html
    mine = section(html, "author")
    assert "Draft about caching" in mine
    back = mine[mine.index("Sent back to me"):mine.index("Under review")]
    assert "Sent back plan" in back and "Split step 1 into two." in back
    assert "Rollback is vague" in back
    under = mine[mine.index("Under review"):mine.index("Drafts")]
    assert "Waiting plan" in under and "Resubmitted plan" in under
    assert "Needs 1 more approval" in under and "Any reviewer" in under
    assert "High risk" in under
    decisions = mine[mine.index("Recent decisions"):]
    assert "Add tests." in decisions and display_name(reviewer) in decisions


def test_reviewer_sees_what_awaits_them_oldest_first_with_due_times(client, world, reviewer):
    html = page(client, reviewer)
    assert 'id="dash-author"' not in html
    mine = section(html, "reviewer")
    awaiting = mine[mine.index("Awaiting my review"):mine.index("Resubmitted since")]
    assert awaiting.index("Waiting plan") < awaiting.index("Resubmitted plan")  # oldest first
    assert "Sent back plan" not in awaiting and "Draft about caching" not in awaiting
    waiting = world["waiting"]
    since = PlanRevision.objects.get(plan=waiting).created_at
    due = (since + timedelta(hours=24)).strftime("%Y-%m-%d %H:%M")
    row = awaiting[awaiting.index(f'data-plan="{waiting.pk}"'):]
    row = row[:row.index("</tr>")]
    assert due in row and "overdue" in row and "High" in row and "1\xa0day" in row
    resubmitted = mine[mine.index("Resubmitted since"):mine.index("My recent decisions")]
    again = world["again"]
    assert "Resubmitted plan" in resubmitted
    assert f"{reverse('plans:diff', args=[again.pk])}?from=1&amp;to=2" in resubmitted
    assert "Split step 1 into two." in mine[mine.index("My recent decisions"):]


def test_a_reviewer_sees_nothing_awaiting_on_their_own_plan(client, world, reviewer):
    """A plan's author never waits on themselves, even as a reviewer."""
    own = ready_plan(author=reviewer, title="Rob's own plan")
    submit(own, reviewer, timezone.now())
    mine = section(page(client, reviewer), "reviewer")
    assert "Rob's own plan" not in mine


def test_requested_reviewers_only(client, world, author, reviewer, reviewer2):
    services.review_request(actor=author, plan=world["waiting"], users=[reviewer2])
    assert "Waiting plan" not in section(page(client, reviewer), "reviewer").split(
        "Resubmitted since")[0]
    assert "Waiting plan" in section(page(client, reviewer2), "reviewer")


def test_admin_sees_overdue_states_queues_and_failed_notifications(client, world, admin_user):
    html = page(client, admin_user)
    mine = section(html, "admin")
    overdue = mine[mine.index("Overdue reviews"):mine.index("Plans by state")]
    assert "Waiting plan" in overdue and "Resubmitted plan" not in overdue
    assert "rita, rob" in overdue
    assert ">Plans by state</title>" in mine
    assert "Pending review, plans: 2" in mine and "Verified" in mine  # every workflow state
    queues = mine[mine.index("Longest review queues"):mine.index("Failed notifications")]
    assert "rob" in queues and "rita" in queues
    assert "SMTP refused" in mine and "alice submitted" in mine


def test_someone_with_several_roles_sees_each_part(client, world):
    both = AuthorFactory(username="ana", roles=(AUTHORS, REVIEWERS))
    html = page(client, both)
    assert 'id="dash-author"' in html and 'id="dash-reviewer"' in html
    assert "Waiting plan" in section(html, "reviewer")


def bulk(count: int, authors, reviewer) -> None:
    """`count` plans in every state, a third under review with a revision, some with steps."""
    states = [PlanStatus.DRAFT, PlanStatus.PENDING_REVIEW, PlanStatus.NEEDS_REVISION,
              PlanStatus.APPROVED, PlanStatus.REJECTED]
    plans = Plan.objects.bulk_create(
        Plan(title=f"Bulk plan {i}", author=authors[i % len(authors)], status=states[i % 5],
             problem_statement="Something") for i in range(count)
    )
    PlanStep.objects.bulk_create(
        PlanStep(plan=p, position=0, title="S", risk=RiskLevel.HIGH) for p in plans[::3])
    PlanRevision.objects.bulk_create(
        PlanRevision(plan=p, number=1, content="x", content_hash=f"{p.pk:064d}",
                     created_by=p.author)
        for p in plans if p.status != PlanStatus.DRAFT)


def count_queries(client, user) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("insights:dashboard"))
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("who", ["author", "reviewer", "admin", "all_roles"])
def test_dashboard_query_count_does_not_grow_with_plans(client, author, reviewer, admin_user, who,
                                                        django_assert_num_queries):
    users = {"author": author, "reviewer": reviewer, "admin": admin_user,
             "all_roles": AuthorFactory(username="all", roles=("Authors", "Reviewers", "Admins"))}
    authors = [author, AuthorFactory(username="bob")]
    ReviewerFactory(username="rita")
    bulk(10, authors, reviewer)
    computed = count_queries(client, users[who])  # the figures computed and cached
    cached = count_queries(client, users[who])  # then read from the cache
    assert computed <= 40
    assert cached <= 7 < computed
    bulk(990, authors, reviewer)
    cache.clear()  # bulk rows write no audit entry; every service's write is a new version
    assert count_queries(client, users[who]) == computed
    client.force_login(users[who])
    with django_assert_num_queries(cached):
        response = client.get(reverse("insights:dashboard"))
    html = response.content.decode()
    if who in ("reviewer", "all_roles"):
        assert "The 10 oldest of 200" in html  # 200 plans under review wait on every reviewer
    if who == "admin":
        assert "Pending review, plans: 200" in html
