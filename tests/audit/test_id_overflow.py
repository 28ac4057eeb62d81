"""A plan id too large for a 64-bit column (SQLite's driver cannot even send one) is a filter
error or a 404 on the admins' pages, never a 500."""

import pytest
from django.db import connection

from plans.services import plan_create

pytestmark = pytest.mark.django_db

HUGE = ["99999999999999999999", str(2**63)]


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def plan(author):
    return plan_create(actor=author, title="Rate-limit failed logins")


@pytest.mark.parametrize("huge", HUGE)
def test_the_audit_list_refuses_a_huge_plan_filter(admin_client, plan, huge):
    response = admin_client.get("/audit/", {"plan": huge})
    assert response.status_code == 400
    assert "less than or equal to" in response.content.decode()
    assert admin_client.get("/audit/", {"plan": plan.pk}).status_code == 200


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@pytest.mark.parametrize("huge", HUGE)
def test_the_exports_refuse_a_huge_plan_filter(admin_client, plan, fmt, huge):
    response = admin_client.get(f"/audit/export.{fmt}", {"plan": huge})
    assert response.status_code == 400
    assert response.content.decode().startswith("Invalid filter: ")
    assert admin_client.get(f"/audit/export.{fmt}", {"plan": plan.pk}).status_code == 200


@pytest.mark.parametrize("huge", HUGE)
def test_the_timeline_of_a_huge_plan_id_is_not_found(admin_client, plan, huge):
    assert admin_client.get(f"/reviews/plan/{huge}/timeline/").status_code == 404
    assert admin_client.get(f"/reviews/plan/{plan.pk}/timeline/").status_code == 200


@pytest.mark.parametrize("huge", HUGE)
def test_the_admin_plan_list_of_a_huge_id_is_empty(admin_client, plan, huge):
    response = admin_client.get("/admin/plans/plan/", {"id": huge})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []
    listed = admin_client.get("/admin/plans/plan/", {"id": plan.pk}).context["cl"].result_list
    assert list(listed) == [plan]


@pytest.mark.parametrize("lookup", ["plan_id", "plan", "plan_id__exact"])
@pytest.mark.parametrize("huge", HUGE)
def test_the_admin_audit_list_of_a_huge_plan_id_is_a_bad_lookup(admin_client, plan, lookup,
                                                                 huge):
    response = admin_client.get("/admin/audit/auditentry/", {lookup: huge})
    if connection.vendor == "sqlite":  # its driver cannot send the int: a bad lookup, as "abc"
        assert response.status_code == 302 and response.url.endswith("?e=1")
        assert admin_client.get("/admin/audit/auditentry/", {lookup: "abc"}).url == response.url
    else:  # PostgreSQL compares it (no row has it): an empty list
        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == []
    listed = admin_client.get("/admin/audit/auditentry/", {lookup: plan.pk}).context["cl"]
    assert {entry.plan_id for entry in listed.result_list} == {plan.pk}


@pytest.mark.parametrize("huge", HUGE)
def test_the_admin_audit_list_through_the_plans_id_is_empty(admin_client, plan, huge):
    response = admin_client.get("/admin/audit/auditentry/", {"plan__id__exact": huge})
    assert response.status_code == 200  # the plan's own id field: the ORM answers it
    assert list(response.context["cl"].result_list) == []
