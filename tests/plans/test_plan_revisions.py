"""Revision list, revision page and the section-by-section diff between two revisions."""

import pytest
from django.urls import reverse

from plans import services
from plans.diff import section_diff, split_sections
from plans.models import Plan
from tests.factories import ReviewerFactory, ready_plan

pytestmark = pytest.mark.django_db


def two_revisions(author):
    """Submit, withdraw, edit the problem statement and a step, submit again."""
    plan = ready_plan(author=author, title="Login speed")
    first = services.plan_submit(actor=author, plan=plan)
    plan = services.plan_withdraw(actor=author, plan=Plan.objects.get(pk=plan.pk))
    step = plan.steps.get()
    plan = services.plan_update(
        actor=author, plan=plan, fields={"problem_statement": "Logins take 4 seconds."},
        steps=[{"id": step.pk, "title": step.title, "objective": step.objective,
                "estimate": "1 day", "risk": "high"}],
    )
    second = services.plan_submit(actor=author, plan=plan)
    return plan, first, second


def test_revision_list_shows_number_hash_who_and_when(client, author):
    plan, first, second = two_revisions(author)
    client.force_login(ReviewerFactory())
    response = client.get(reverse("plans:revisions", args=[plan.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert page.index(">r2<") < page.index(">r1<")  # newest first
    assert first.content_hash[:12] in page and second.content_hash[:12] in page
    assert author.get_full_name() in page
    assert reverse("plans:revision", args=[plan.pk, 1]) in page
    assert f"{reverse('plans:diff', args=[plan.pk])}?from=1&amp;to=2" in page


def test_revision_page_renders_the_frozen_content(author_client, author):
    _, first, _ = two_revisions(author)
    page = author_client.get(first.get_absolute_url()).content.decode()
    assert first.content_hash in page
    assert "Logins are slow under load." in page  # r1's text, not today's
    assert "Logins take 4 seconds." not in page


def test_diff_shows_changed_sections_and_collapses_the_rest(author_client, author):
    plan, _, _ = two_revisions(author)
    url = reverse("plans:diff", args=[plan.pk]) + "?from=1&to=2"
    response = author_client.get(url)
    page = response.content.decode()
    assert response.status_code == 200
    assert '<details class="diff-section diff-changed" open>' in page
    assert '<del class="diff-del">- Logins are slow under load.</del>' in page
    assert '<ins class="diff-add">+ Logins take 4 seconds.</ins>' in page
    assert '<ins class="diff-add">+ **Estimated Time**: 1 day</ins>' in page
    assert '<ins class="diff-add">+ **Risk Level**: High</ins>' in page
    assert '<details class="diff-section diff-unchanged">' in page  # collapsed
    assert "2 sections changed" in page
    # With no parameters: the last two revisions.
    assert author_client.get(reverse("plans:diff", args=[plan.pk])).content.decode().count(
        "diff-changed") == 2


def test_diff_with_an_unknown_revision_is_a_400(author_client, author):
    plan, _, _ = two_revisions(author)
    response = author_client.get(reverse("plans:diff", args=[plan.pk]) + "?from=1&to=9")
    assert response.status_code == 400
    assert "Pick two revisions" in response.content.decode()


def test_section_diff_pairs_sections_by_heading():
    old = "# T\n\n## A\none\n\n## B\n### B1\nx\n```\n## not a heading\n```\n\n## C\ngone\n"
    new = "# T\n\n## A\none\n\n## B\n### B1\ny\n```\n## not a heading\n```\n\n## D\nnew\n"
    assert [h for h, _ in split_sections(old)] == ["", "A", "B", "B / B1", "C"]
    result = {s.heading: s for s in section_diff(old, new)}
    assert result["A"].status == "unchanged"
    assert result["B / B1"].status == "changed"
    assert [(line.kind, line.text) for line in result["B / B1"].lines if line.kind != "equal"] == [
        ("delete", "x"), ("insert", "y")]
    # C and D sit at the same place: shown as one changed section with the heading line diffed.
    assert result["D"].status == "changed" and result["D"].inserted == 2
    assert section_diff(new, new) and all(not s.changed for s in section_diff(new, new))


def test_section_diff_reports_added_and_removed_sections():
    old = "## A\na\n\n## B\nb\n"
    new = "## A\na\n\n## B\nb\n\n## Extra\nnotes\n"
    diff = section_diff(old, new)
    assert [(s.heading, s.status) for s in diff] == [
        ("A", "unchanged"), ("B", "unchanged"), ("Extra", "added")]
    assert [(s.heading, s.status) for s in section_diff(new, old)][-1] == ("Extra", "removed")


# --- immutability ------------------------------------------------------------------------------


def test_revisions_cannot_be_changed_through_a_queryset(author):
    revision = services.plan_submit(actor=author, plan=ready_plan(author=author))
    from plans.models import PlanRevision

    with pytest.raises(ValueError, match="immutable"):
        PlanRevision.objects.filter(pk=revision.pk).update(content="forged")
    revision.content = "forged"
    with pytest.raises(ValueError, match="immutable"):
        PlanRevision.objects.bulk_update([revision], ["content"])
    with pytest.raises(ValueError, match="immutable"):
        Plan.objects.get(pk=revision.plan_id).revisions.update(content_hash="0" * 64)
    stored = PlanRevision.objects.get(pk=revision.pk)
    assert stored.content != "forged" and stored.content_hash == revision.content_hash


def test_database_rejects_a_raw_update_of_a_revision(author, require_postgres):
    from django.db import DatabaseError, connection, transaction

    from plans.models import PlanRevision

    revision = services.plan_submit(actor=author, plan=ready_plan(author=author))
    with (pytest.raises(DatabaseError, match="immutable"), transaction.atomic(),
          connection.cursor() as cursor):
        cursor.execute("UPDATE plans_planrevision SET content = 'forged' WHERE id = %s",
                       [revision.pk])
    assert PlanRevision.objects.get(pk=revision.pk).content == revision.content


def test_deleting_a_plan_still_deletes_its_revisions(author):
    from plans.models import PlanRevision

    plan = ready_plan(author=author)
    services.plan_submit(actor=author, plan=plan)
    Plan.objects.filter(pk=plan.pk).delete()  # the trigger leaves DELETE alone
    assert not PlanRevision.objects.filter(plan_id=plan.pk).exists()
