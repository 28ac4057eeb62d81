"""schemathesis against /api/schema/: generated requests (bounded examples) to every operation,
in-process through the WSGI app, as a signed-in token holder. No answer may be a 500, and every
answer must conform to the schema (status code, content type, body, headers)."""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.reviewkit import approve, submitted_plan

from .conftest import token_client

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]


# Loaded at collection (pytest-django has set Django up by then); the schema view needs no
# database.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.fixture
def in_test_transaction():
    """Requests go through the real WSGI handler, which closes the database connection after
    each one; inside the test's transaction it must not (Django's test client does the same)."""
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (signals.request_started, signals.request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def bearer(db, in_test_transaction, author, reviewer, settings):
    """A token holder's header, and some plans for the generated ids to find."""
    settings.PLANGATE_API_RATE = "100000/min"  # the fuzzer, not the rate limit, is under test
    approve(submitted_plan(author), reviewer)
    submitted_plan(author, title="Pending")
    return {"Authorization": f"Bearer {token_client(author).raw_token}"}


@schema.parametrize()
@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, bearer):
    case.call_and_validate(headers=bearer, checks=CHECKS)
