"""The messages a newcomer reads first: a missing token, a PLANGATE_URL that is not the site's
root, field errors the detail already says, an empty plan file, and the hook's block reasons."""

import httpx
import pytest
from plangate import hook as plangate_hook
from plangate.api import UsageError

from tests.client.fake_plangate import BASE, problem
from tests.client.test_hook import event


def test_a_missing_token_names_the_api_tokens_page(plangate, plan_file, fake, monkeypatch):
    monkeypatch.delenv("PLANGATE_TOKEN")
    monkeypatch.setenv("PLANGATE_URL", f"{BASE}/api/v1/")
    result = plangate("submit", plan_file)
    assert result.code == 2
    assert result.err == ("plangate: no API token: set PLANGATE_TOKEN (create one on the API "
                          f"tokens page, {BASE}/api/tokens/) or pass --token\n")
    assert fake.requests == []


def test_a_404_outside_the_api_asks_whether_plangate_url_is_the_site_root(plangate, monkeypatch):
    monkeypatch.setenv("PLANGATE_URL", "http://127.0.0.1:8000/plans")
    seen = []

    def django_404(request):
        seen.append(request.url.path)
        return httpx.Response(404, text="<h1>Not Found</h1>", headers={"Content-Type": "text/html"})

    result = plangate("status", "1", transport=httpx.MockTransport(django_404))
    assert seen == ["/plans/api/v1/plans/1"]
    assert result.code == 1
    assert result.err == ("plangate: HTTP 404: Not Found (is PLANGATE_URL the site's root, e.g. "
                          "http://127.0.0.1:8000?)\n")


def test_the_apis_own_404_gets_no_hint(plangate, fake):
    result = plangate("status", "99")
    assert result.code == 1
    assert result.err == "plangate: HTTP 404: Not found.\n"


def blank(request):
    return problem(400, "markdown: This field may not be blank.",
                   errors={"markdown": ["This field may not be blank."]})


def test_field_errors_the_detail_already_says_are_not_repeated(plangate, plan_file):
    result = plangate("submit", plan_file, transport=httpx.MockTransport(blank))
    assert result.code == 1
    assert result.err == "plangate: HTTP 400: markdown: This field may not be blank.\n"


def test_field_errors_the_detail_does_not_say_are_kept(plangate, plan_file):
    def invalid(request):
        return problem(400, "Invalid input.", errors={"markdown": ["Too long.", "Bad."]})

    result = plangate("submit", plan_file, transport=httpx.MockTransport(invalid))
    assert result.err == "plangate: HTTP 400: Invalid input. (markdown: Too long. Bad.)\n"


@pytest.mark.parametrize("text", ["", "  \n\t\n"])
def test_an_empty_plan_file_is_refused_before_any_request(plangate, plan_file, fake, text):
    plan_file.write_text(text)
    result = plangate("submit", plan_file)
    assert result.code == 2
    assert result.err == f"plangate: {plan_file} is empty\n"
    assert fake.requests == []


@pytest.fixture
def hook(plangate, plan_file, monkeypatch):
    monkeypatch.setenv("PLANGATE_PLAN_FILE", "docs/plan.md")

    def run(transport=None):
        return plangate("hook", stdin=event("Edit", plan_file.parent.parent, file_path="app.py"),
                        transport=transport)

    return run


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_token_blocks_until_the_token_is_fixed(hook, status):
    transport = httpx.MockTransport(
        lambda request: problem(status, "Invalid API token: it is unknown, revoked or expired."))
    result = hook(transport)
    assert result.code == 2
    assert "Edits stay blocked until the token is fixed." in result.err
    assert "until the server answers" not in result.err


def test_a_server_error_still_waits_for_the_server(hook):
    result = hook(httpx.MockTransport(lambda request: httpx.Response(503)))
    assert result.code == 2
    assert result.err.endswith("(HTTP 503: Service Unavailable). Edits stay blocked until the "
                               "server answers.\n")


def test_hook_messages_end_with_one_full_stop(hook):
    def changed(request):
        return httpx.Response(200, json={
            "approved": False, "state": "changed", "plan": 1, "reason":
            "Plan 1 is approved as revision 1, but this text differs from it: it changed "
            "since approval."})

    result = hook(httpx.MockTransport(changed))
    assert result.code == 2
    assert "(state: changed: Plan 1 is approved as revision 1, but this text differs from it: " \
           "it changed since approval). Submit it" in result.err
    assert ".)." not in result.err


def test_a_usage_error_ending_in_a_full_stop_is_not_doubled(plan_file, monkeypatch):
    monkeypatch.chdir(plan_file.parent.parent)

    def settings():
        raise UsageError("PLANGATE_URL is not set.")

    code, reason = plangate_hook.decide(event("Write", file_path="app.py"),
                                        plan_file="docs/plan.md", settings=settings,
                                        api_factory=None)
    assert code == plangate_hook.BLOCK
    assert reason.endswith("it cannot be checked: PLANGATE_URL is not set.")


@pytest.mark.parametrize(("status", "until"), [
    (404, "PLANGATE_URL is the Plangate site's root"),
    (413, "the plan is within the server's size limit"),
    (429, "the server's rate limit lets the check through (try again shortly)"),
])
def test_a_refusal_the_server_will_repeat_says_what_has_to_change(hook, status, until):
    result = hook(httpx.MockTransport(lambda request: problem(status, "Refused.")))
    assert result.code == 2
    assert result.err.endswith(f"Edits stay blocked until {until}.\n")
    assert "until the server answers" not in result.err
