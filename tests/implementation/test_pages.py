"""The implementation panel on the plan page, the record page with its verification form, and
the certificate's implementation record. The panel's queries do not grow with the record."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from implementation import services
from implementation.templatetags.implementation_tags import implementation_panel_html
from plans.models import PlanStatus
from plans.services import plan_import_markdown
from reviews.services import review_start
from tests.factories import AuthorFactory, ReviewerFactory
from tests.implementation.kit import AMENDED, PLAN, approved_plan

#: The panel's own queries: approvals (audit entries, their revisions), steps with their action
#: counts, progress reports, drift reports, verifications, and who may act (the plan's editors,
#: once for both questions). Fixed, whatever the size of the record.
PANEL_QUERIES = 7

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(author, reviewer):
    return approved_plan(author, reviewer)


def page(client, user, url) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_plan_page_shows_progress_per_step_and_the_last_drift(client, plan, author):
    services.progress_report(actor=author, plan=plan, step=1, action=1, note="parser moved",
                             commit="abcdef1234")
    services.progress_report(actor=author, plan=plan, step=2)
    services.drift_report_upload(actor=author, plan=plan, changed=["app/a.py", "app/c.py"])
    body = page(client, author, plan.get_absolute_url())
    assert 'id="implementation-panel"' in body
    assert "Move the parser:\n      1 of 2 actions done" in body
    assert "Move the writer:\n      <strong>done</strong>" in body
    assert "abcdef1234" in body and "parser moved" in body
    assert "1 unplanned file" in body and "<code>app/c.py</code>" in body
    assert "Mark implemented" in body  # the author may finish


def test_a_plan_never_approved_has_no_panel(client, author):
    draft = plan_import_markdown(actor=author, text=PLAN)
    assert "implementation-panel" not in page(client, author, draft.get_absolute_url())


def test_the_author_starts_from_the_page_and_a_reviewer_may_not(client, plan, author, reviewer):
    client.force_login(reviewer)
    assert client.post(f"/implementation/plan/{plan.pk}/start/").status_code == 403
    client.force_login(author)
    assert "Start implementing" in client.get(plan.get_absolute_url()).content.decode()
    response = client.post(f"/implementation/plan/{plan.pk}/start/")
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.IMPLEMENTING


def test_a_reviewer_verifies_on_the_record_page(client, plan, author, reviewer):
    services.implementation_start(actor=author, plan=plan)
    services.implementation_finish(actor=author, plan=plan)
    assert 'id="verification"' not in page(client, author, f"/implementation/plan/{plan.pk}/")
    body = page(client, reviewer, f"/implementation/plan/{plan.pk}/")
    assert 'id="verification"' in body and 'name="evidence-2"' in body
    # A field name with a non-ASCII digit is not a criterion (and not a 500).
    response = client.post(f"/implementation/plan/{plan.pk}/verify/",
                           {"evidence-²": "x", "outcome": "VERIFIED"})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.IMPLEMENTED
    # Evidence for one criterion only: refused, and nothing is kept.
    client.post(f"/implementation/plan/{plan.pk}/verify/",
                {"evidence-1": "https://ci.example/1", "outcome": "VERIFIED"})
    plan.refresh_from_db()
    assert plan.status == PlanStatus.IMPLEMENTED
    response = client.post(f"/implementation/plan/{plan.pk}/verify/", {
        "evidence-1": "https://ci.example/1", "evidence-2": "CI green", "outcome": "VERIFIED"})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.VERIFIED
    certificate = page(client, author, f"/reviews/plan/{plan.pk}/certificate/")
    assert "Implementation record" in certificate and "CI green" in certificate
    assert "Approved revisions" in certificate


def panel_queries(client, plan) -> int:
    with CaptureQueriesContext(connection) as ctx:
        client.get(plan.get_absolute_url())
    return len(ctx.captured_queries)


def test_the_plan_page_query_count_does_not_grow_with_the_record(client, reviewer):
    small = approved_plan(AuthorFactory(username="sam"), reviewer)
    big_author = AuthorFactory(username="bea")
    big = approved_plan(big_author, reviewer)
    for step, action in [(1, 1), (1, 2), (2, 1), (2, None), (1, None)] * 4:
        services.progress_report(actor=big_author, plan=big, step=step, action=action,
                                 commit="abc1234", note="n")
    for _ in range(6):
        services.drift_report_upload(actor=ReviewerFactory(), plan=big,
                                     changed=["app/a.py", "x.py"])
    client.force_login(reviewer)
    for plan in (small, big):
        client.get(plan.get_absolute_url())  # warm caches
    assert panel_queries(client, big) == panel_queries(client, small)


def test_the_panel_itself_runs_a_fixed_number_of_queries(django_assert_num_queries, reviewer, rf):
    author = AuthorFactory(username="bea")
    plan = approved_plan(author, reviewer)
    for step in (1, 2, 1, 2):
        services.progress_report(actor=author, plan=plan, step=step, commit="abc1234")
        services.drift_report_upload(actor=author, plan=plan, changed=["app/a.py"])
    request = rf.get(plan.get_absolute_url())
    request.user = reviewer
    with django_assert_num_queries(PANEL_QUERIES):
        html = implementation_panel_html(request, plan, {})
    assert "Move the writer" in html


def test_a_new_reviewer_sees_an_amendment_as_a_diff_against_the_approved_revision(
        client, plan, author, reviewer2):
    services.amendment_submit(actor=author, plan=plan, text=AMENDED)
    review = review_start(actor=reviewer2, plan=plan)
    body = page(client, reviewer2, f"/reviews/{review.pk}/")
    assert "What changed since revision 1 (the approved revision this amendment changes)" in body
    diff = body.split('id="diff"', 1)[1].split("</section>", 1)[0]
    assert "Shared helpers" in diff and "app/c.py" in diff
