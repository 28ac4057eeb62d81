"""The API keeps an agent's plan byte for byte: its export is the text it submitted, CRLF and
BOM included, and the revision's hash is the text's with LF line endings (what verify takes).
And it tells the agent what the import noticed, as the plan page tells a person."""

import hashlib

import pytest

from plans import services as plan_services
from plans.models import Plan
from tests.plans.test_source_bytes import CORPUS, TEMPLATE_TEXT, lf, with_endings

pytestmark = pytest.mark.django_db


def test_a_crlf_plan_with_a_bom_exports_back_as_submitted(api_author):
    text = with_endings(TEMPLATE_TEXT, ["\r\n"], bom=True)
    created = api_author.post("/api/v1/plans", {"markdown": text}, format="json")
    assert created.status_code == 201, created.content
    plan_id = created.json()["id"]
    assert api_author.get(f"/api/v1/plans/{plan_id}/markdown").content == text.encode()
    answer = api_author.post("/api/v1/verify", {"markdown": text, "plan": plan_id}, format="json")
    assert answer.json()["sha256"] == hashlib.sha256(lf(text).encode()).hexdigest()


def test_an_agent_reads_what_the_import_noticed(api_author):
    text = (CORPUS / "13-unclosed-fence.md").read_text()
    created = api_author.post("/api/v1/plans", {"markdown": text}, format="json")
    report = api_author.get(f"/api/v1/plans/{created.json()['id']}").json()["import_report"]
    assert "Rollback Plan" in report["sections_missing"]
    assert report["conformance"].startswith("2 of 8 template sections (not found: ")
    assert report["warnings"] and all(w["line"] >= 1 for w in report["warnings"])
    assert any("fence" in w["message"] or "code block" in w["message"]
               for w in report["warnings"])


def test_a_plan_made_in_the_editor_has_no_import_report(api_author, author):
    plan = plan_services.plan_create(actor=author, title="By hand")
    assert api_author.get(f"/api/v1/plans/{plan.pk}").json()["import_report"] is None


def test_a_report_stored_before_missing_sections_were_recorded_says_it_does_not_know(
    api_author, author
):
    plan = plan_services.plan_import_markdown(actor=author, text=TEMPLATE_TEXT)
    Plan.objects.filter(pk=plan.pk).update(import_report={
        "warnings": [], "sections_found": 9, "sections_total": 10, "extra_sections": 0})
    report = api_author.get(f"/api/v1/plans/{plan.pk}").json()["import_report"]
    assert report["sections_missing"] is None
    assert report["conformance"] == "9 of 10 template sections"
