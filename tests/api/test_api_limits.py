"""Review fixes: an id out of the 64-bit range is a 404 on every route (SQLite included); a
plan's Markdown up to its 1 MB limit is accepted however its JSON is escaped; failed or absent
authentication is rate-limited per client address before any token is looked up."""

import json

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from api.base import MARKDOWN_BODY_BYTES
from plans.markdown import MAX_BYTES
from plans.models import Plan, PlanStatus
from tests.api.conftest import token_client
from tests.factories import ready_plan
from tests.implementation.kit import approved_plan

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == PROBLEM
    return response.json()


# --- ids out of range -----------------------------------------------------------------------------
ID_ROUTES = [
    "plans/{}", "plans/{}/revise", "plans/{}/submit", "plans/{}/withdraw", "plans/{}/markdown",
    "plans/{}/feedback", "plans/{}/reviews", "plans/{}/comments", "plans/{}/concerns",
    "reviews/{}", "reviews/{}/answers", "reviews/{}/decision", "concerns/{}/resolve",
    "comments/{}/edit", "comments/{}/resolve", "comments/{}/reopen",
    "plans/{}/implementation", "plans/{}/start", "plans/{}/finish", "plans/{}/progress",
    "plans/{}/drift", "plans/{}/amend", "plans/{}/verification",
]
HUGE = [2**70, 2**63, 2**63 - 1]


@pytest.mark.parametrize("huge", HUGE)
def test_a_plan_of_a_huge_id_is_a_404_problem(api_author, huge):
    client = api_author
    client.raise_request_exception = False
    _problem(client.get(f"/api/v1/plans/{huge}"), 404)
    _problem(client.get(f"/api/v1/plans/{huge}", HTTP_IF_NONE_MATCH='"p1-x"'), 404)


@pytest.mark.parametrize("huge", HUGE)
def test_no_route_taking_an_id_fails_on_a_huge_one(settings, admin_user, huge):
    settings.PLANGATE_API_RATE = "100000/min"
    client = token_client(admin_user)
    client.raise_request_exception = False
    seen = {}
    for route in ID_ROUTES:
        url = "/api/v1/" + route.format(huge)
        for method in ("get", "post", "patch", "put", "delete"):
            status = getattr(client, method)(url, {}, format="json").status_code
            if status not in (404, 405):
                seen[f"{method.upper()} {url}"] = status
    assert seen == {}


def test_a_huge_plan_id_in_a_body_is_not_a_500(api_author, plan_markdown):
    api_author.raise_request_exception = False
    response = api_author.post("/api/v1/verify", {"markdown": plan_markdown, "plan": 2**70},
                               format="json")
    assert response.status_code in (200, 400, 404), response.content


def test_an_id_in_range_still_answers(api_author, author):
    plan = ready_plan(author=author)
    assert api_author.get(f"/api/v1/plans/{plan.pk}").status_code == 200


# --- the body limit of Markdown -------------------------------------------------------------------
def _post_json(client, url: str, payload: dict):
    """As the official client (requests' json=) sends it: ASCII-only JSON."""
    body = json.dumps(payload, ensure_ascii=True)
    return client.generic("POST", url, body, content_type="application/json"), len(body)


def _padded(markdown: str, filler: str, size: int) -> str:
    """The plan with a paragraph of ``filler`` appended until it is ``size`` bytes of UTF-8."""
    head = markdown.rstrip("\n") + "\n\n"
    room = size - len(head.encode())
    unit = len(filler.encode())
    return head + filler * (room // unit) + "x" * (room % unit)


def test_the_reported_plan_under_1_mb_of_markdown_is_created(api_author, plan_markdown):
    """784,653 bytes of Markdown, many quotes and newlines: a JSON body over 1 MiB."""
    markdown = _padded(plan_markdown, '"q"\n', 784_653)
    assert len(markdown.encode()) == 784_653
    response, length = _post_json(api_author, "/api/v1/plans", {"markdown": markdown})
    assert length > 1024 * 1024
    assert response.status_code == 201, response.content[:500]
    assert Plan.objects.count() == 1


@pytest.mark.parametrize("filler", ["\x01", "é", "😀", '"\\\n'], ids=["control", "2-byte",
                                                                        "4-byte", "escaped"])
def test_markdown_at_its_limit_is_accepted_whatever_its_escaping(api_author, plan_markdown,
                                                                  filler):
    markdown = _padded(plan_markdown, filler, MAX_BYTES)
    assert len(markdown.encode()) == MAX_BYTES
    response, length = _post_json(api_author, "/api/v1/verify", {"markdown": markdown})
    assert length <= MARKDOWN_BODY_BYTES
    assert response.status_code == 200, response.content[:500]
    assert response.json()["state"] == "unknown"


def test_every_markdown_endpoint_takes_the_larger_body(api_author, author, reviewer,
                                                       plan_markdown):
    markdown = _padded(plan_markdown, '"q"\n', 900_000)
    draft = ready_plan(author=author)
    response, length = _post_json(api_author, f"/api/v1/plans/{draft.pk}/revise",
                                  {"markdown": markdown})
    assert length > 1024 * 1024
    assert response.status_code == 200, response.content[:500]
    approved = approved_plan(author, reviewer)
    response, _ = _post_json(api_author, f"/api/v1/plans/{approved.pk}/amend",
                             {"markdown": markdown})
    assert response.status_code == 200, response.content[:500]
    assert response.json()["status"] == PlanStatus.PENDING_REVIEW


def test_markdown_over_1_mb_is_a_400_naming_the_markdown_limit(api_author, plan_markdown):
    markdown = _padded(plan_markdown, '"q"\n', MAX_BYTES + 1)
    response, length = _post_json(api_author, "/api/v1/plans", {"markdown": markdown})
    assert length <= MARKDOWN_BODY_BYTES
    body = _problem(response, 400)
    assert "1 MB" in body["detail"] and "text" in body["detail"]
    assert not Plan.objects.exists()


def test_a_body_over_the_markdown_limit_is_a_413_naming_it(api_author):
    response, _ = _post_json(api_author, "/api/v1/plans",
                             {"markdown": "\x01" * (MARKDOWN_BODY_BYTES // 6 + 1)})
    detail = _problem(response, 413)["detail"]
    assert f"{MARKDOWN_BODY_BYTES:,}-byte limit" in detail and "Markdown" in detail
    assert "1 MB" in detail
    assert not Plan.objects.exists()


def test_a_body_over_the_markdown_limit_without_content_length_is_refused(api_author):
    from io import BytesIO

    from api.errors import PayloadTooLarge
    from api.media import LimitedJSONParser
    from api.views import PlanReviseView

    body = b'"' + b"x" * MARKDOWN_BODY_BYTES + b'"'
    with pytest.raises(PayloadTooLarge):
        LimitedJSONParser().parse(BytesIO(body), parser_context={"view": PlanReviseView()})
    ok = b'"' + b"x" * (2 * 1024 * 1024) + b'"'
    assert len(LimitedJSONParser().parse(BytesIO(ok),
                                         parser_context={"view": PlanReviseView()})) == 2**21


def test_structured_fields_keep_the_ordinary_limit(api_author, author):
    big = {"title": "Big", "sections": {"objective": '"' * (600 * 1024)}}
    response, length = _post_json(api_author, "/api/v1/plans", big)
    assert 1024 * 1024 < length < MARKDOWN_BODY_BYTES
    assert "1 MB" in _problem(response, 413)["detail"]
    plan = ready_plan(author=author)
    response = api_author.generic("PATCH", f"/api/v1/plans/{plan.pk}", json.dumps(big),
                                  content_type="application/json")
    assert "1 MB" in _problem(response, 413)["detail"]
    assert Plan.objects.count() == 1


def test_other_endpoints_keep_the_ordinary_limit(api_author, author):
    plan = ready_plan(author=author)
    response, _ = _post_json(api_author, f"/api/v1/plans/{plan.pk}/comments",
                             {"body": "x" * (1024 * 1024 + 1)})
    assert "1 MB" in _problem(response, 413)["detail"]


# --- failed authentication is rate-limited --------------------------------------------------------
def _token_lookups(queries) -> int:
    return sum("api_apitoken" in q["sql"] for q in queries)


def test_bad_tokens_are_throttled_per_address(settings):
    settings.PLANGATE_API_RATE = "3/min"
    client = APIClient(REMOTE_ADDR="198.51.100.7")
    client.credentials(HTTP_AUTHORIZATION="Bearer pgt_nope")
    statuses = [client.get("/api/v1/plans").status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    with CaptureQueriesContext(connection) as queries:
        responses = [client.get("/api/v1/plans") for _ in range(7)]
    assert [r.status_code for r in responses] == [429] * 7
    body = _problem(responses[0], 429)
    assert body["status"] == 429
    assert 0 < int(responses[0]["Retry-After"]) <= 60
    assert _token_lookups(queries) == 7 and len(queries) == 7  # one indexed lookup each


def test_anonymous_requests_are_throttled_per_address(settings):
    settings.PLANGATE_API_RATE = "3/min"
    client = APIClient(REMOTE_ADDR="198.51.100.8")
    statuses = [client.get("/api/v1/plans").status_code for _ in range(10)]
    assert statuses == [401] * 3 + [429] * 7
    # A forged X-Forwarded-For is not a new address (no trusted proxy in front).
    assert client.get("/api/v1/plans", HTTP_X_FORWARDED_FOR="203.0.113.99").status_code == 429
    # Another address has its own bucket.
    assert APIClient(REMOTE_ADDR="198.51.100.9").get("/api/v1/plans").status_code == 401


def test_a_valid_token_keeps_its_own_bucket(settings, author):
    settings.PLANGATE_API_RATE = "3/min"
    bad = APIClient(REMOTE_ADDR="198.51.100.10")
    for _ in range(5):
        bad.get("/api/v1/plans")
    good = token_client(author)  # another address (127.0.0.1)
    assert [good.get("/api/v1/plans").status_code for _ in range(4)] == [200, 200, 200, 429]
    # Successful requests are never counted as failures: their address is not blocked.
    assert APIClient().get("/api/v1/plans").status_code == 401


def test_others_failures_at_the_same_address_never_block_a_valid_token(settings, author):
    settings.PLANGATE_API_RATE = "3/min"
    good = token_client(author)  # 127.0.0.1, as the failing client
    for _ in range(5):
        APIClient().get("/api/v1/plans")
    assert APIClient().get("/api/v1/plans").status_code == 429
    assert good.get("/api/v1/plans").status_code == 200


def test_the_failure_counter_lives_in_the_shared_cache(settings):
    settings.PLANGATE_API_RATE = "3/min"
    APIClient(REMOTE_ADDR="198.51.100.11").get("/api/v1/plans")
    assert len(cache.get("throttle_api-auth-failures_addr:198.51.100.11")) == 1


def test_the_cache_down_fails_open(settings, monkeypatch):
    settings.PLANGATE_API_RATE = "1/min"

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get", down)
    monkeypatch.setattr(cache, "set", down)
    client = APIClient(REMOTE_ADDR="198.51.100.12")
    assert [client.get("/api/v1/plans").status_code for _ in range(3)] == [401] * 3


def test_a_deeply_nested_body_is_a_400_not_a_500(api_author):
    response = api_author.post("/api/v1/verify", b"[" * 200_000,
                               content_type="application/json")
    assert "nested too deeply" in _problem(response, 400)["detail"]
