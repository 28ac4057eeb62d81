"""Webhooks reach only public receivers, never follow redirects, sign a timestamp and fail with
messages that say nothing about the internal network (hardening finding 5)."""

import socket
import threading

import pytest

from config.testing import WebhookReceiver
from core.errors import ValidationError
from notifications import services
from notifications.models import OutboxMessage, OutboxStatus, WebhookEndpoint
from plans.events import PLAN_SUBMITTED
from tests.factories import AdminFactory, ready_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_exemptions(settings):
    """As in production: no host is exempt from the public-address rule."""
    settings.PLANGATE_WEBHOOK_ALLOWED_HOSTS = []


def deliver(url: str, secret: str = "k") -> OutboxMessage:
    """Send one plan.submitted webhook to `url` now and return its outbox row."""
    WebhookEndpoint.objects.create(name="Hook", url=url, secret=secret)
    plan = ready_plan(title="Cache sessions")
    (outbox_id,) = services.notify_plan_event(event=PLAN_SUBMITTED, plan=plan, actor=None,
                                              recipients=[])
    services.outbox_deliver(outbox_id=outbox_id, final_attempt=True)
    return OutboxMessage.objects.get(pk=outbox_id)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "10.0.0.5",
                                  "169.254.169.254", "192.168.1.10", "100.64.0.1"])
def test_a_receiver_on_a_non_public_address_is_never_called(host, no_exemptions):
    with WebhookReceiver("k") as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        row = deliver(f"http://{host}:{port}/hook")
    assert receiver.calls == []
    assert row.status == OutboxStatus.FAILED
    assert "is not public" in row.last_error


def test_an_admin_can_allow_a_named_internal_host(settings):
    settings.PLANGATE_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    with WebhookReceiver("k") as receiver:
        row = deliver(receiver.url)
    assert row.status == OutboxStatus.SENT and len(receiver.ok_calls) == 1


def test_redirects_are_never_followed():
    with WebhookReceiver("k") as target, WebhookReceiver("k", statuses=(302,),
                                                          location=target.url) as receiver:
        row = deliver(receiver.url)
    assert len(receiver.calls) == 1 and target.calls == []
    assert row.status == OutboxStatus.FAILED
    assert "HTTP 302 (redirects are not followed)" in row.last_error


def test_the_signature_covers_a_fresh_timestamp():
    with WebhookReceiver("k") as receiver:
        deliver(receiver.url)
    # The receiver recomputes HMAC("<timestamp>.<body>") itself and checks the timestamp is
    # within five minutes; a signature over the body alone would not verify.
    assert [call["valid"] for call in receiver.calls] == [True]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_that_hangs_up() -> int:
    """A port that accepts a connection and closes it at once (an open non-HTTP service)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def serve():
        connection, _ = server.accept()
        connection.close()
        server.close()

    threading.Thread(target=serve, daemon=True).start()
    return server.getsockname()[1]


def test_a_failure_does_not_tell_an_open_port_from_a_closed_one():
    closed = deliver(f"http://127.0.0.1:{_closed_port()}/hook").last_error
    OutboxMessage.objects.all().delete()
    WebhookEndpoint.objects.all().delete()
    hung_up = deliver(f"http://127.0.0.1:{_port_that_hangs_up()}/hook").last_error
    assert closed == hung_up == "Webhook Hook: No answer from 127.0.0.1."


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/",
                                 "https://127.0.0.1/hook", "http://localhost:8000/x",
                                 "http://[::ffff:10.0.0.1]/x"])
def test_an_admin_cannot_save_a_webhook_to_an_internal_address(url, no_exemptions):
    admin = AdminFactory()
    with pytest.raises(ValidationError, match="not public"):
        services.webhook_save(actor=admin, endpoint=WebhookEndpoint(name="x", url=url,
                                                                     secret="k"),
                              changed_fields=["url"], created=True)
    assert not WebhookEndpoint.objects.exists()
