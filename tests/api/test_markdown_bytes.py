"""The API keeps an agent's plan byte for byte: its export is the text it submitted, CRLF and
BOM included, and the revision's hash is the text's with LF line endings (what verify takes)."""

import hashlib

import pytest

from tests.plans.test_source_bytes import TEMPLATE_TEXT, lf, with_endings

pytestmark = pytest.mark.django_db


def test_a_crlf_plan_with_a_bom_exports_back_as_submitted(api_author):
    text = with_endings(TEMPLATE_TEXT, ["\r\n"], bom=True)
    created = api_author.post("/api/v1/plans", {"markdown": text}, format="json")
    assert created.status_code == 201, created.content
    plan_id = created.json()["id"]
    assert api_author.get(f"/api/v1/plans/{plan_id}/markdown").content == text.encode()
    answer = api_author.post("/api/v1/verify", {"markdown": text, "plan": plan_id}, format="json")
    assert answer.json()["sha256"] == hashlib.sha256(lf(text).encode()).hexdigest()
