"""Sending a webhook without letting it reach what it must not, and signing what it sends.

- Only public addresses: the receiver's host name is resolved here, every address it resolves
  to must be public (not loopback, private, link-local such as the 169.254.169.254 metadata
  service, shared, reserved or multicast), and the connection goes to that very address, so a
  name that resolves elsewhere a moment later (DNS rebinding) cannot redirect it. A host an
  admin names in PLANGATE_WEBHOOK_ALLOWED_HOSTS is exempt (an internal CI server, say).
- Redirects are never followed: a 3xx is a failed delivery, so the signed request never goes
  anywhere the admin did not configure.
- The signature covers a timestamp: ``X-Plangate-Signature: sha256=HMAC(secret, "<ts>.<body>")``
  with ``X-Plangate-Timestamp: <ts>`` (Unix seconds), so a receiver can refuse replays.
- Failures read the same whatever the network looked like ("no answer"), so the error shown to
  an admin never tells whether an internal port is open.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import ssl
import time
from urllib.parse import urlsplit

from django.conf import settings

SIGNATURE_HEADER = "X-Plangate-Signature"
TIMESTAMP_HEADER = "X-Plangate-Timestamp"
DELIVERY_HEADER = "X-Plangate-Delivery"
SCHEMES = {"http": 80, "https": 443}


class WebhookFailure(Exception):
    """The delivery failed; the message is safe to show an admin."""


def body_of(payload: dict) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _allowed(host: str) -> bool:
    return host.lower() in {h.lower() for h in settings.PLANGATE_WEBHOOK_ALLOWED_HOSTS}


def url_problem(url: str) -> str:
    """Why this URL may not be a webhook ("" when it may), as far as can be told when it is
    saved: the scheme, a host, and no literal or resolvable non-public address. A name that does
    not resolve yet is accepted; delivery checks again."""
    parts = urlsplit(url or "")
    if parts.scheme.lower() not in SCHEMES or not parts.hostname:
        return "A webhook URL starts with http:// or https:// and names a host."
    try:
        _public_address(parts.hostname, parts.port or SCHEMES[parts.scheme.lower()])
    except WebhookFailure as exc:
        if "not public" in str(exc):
            return str(exc)
    return ""


def _public_address(host: str, port: int) -> str:
    """The address to connect to: the first one ``host`` resolves to, once all are public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise WebhookFailure(f"The host {host} could not be found.") from None
    addresses = [info[4][0] for info in infos]
    if not _allowed(host) and not all(_is_public(a) for a in addresses):
        raise WebhookFailure(
            f"The host {host} is not public (a loopback, private or link-local address); "
            "an admin can allow it with PLANGATE_WEBHOOK_ALLOWED_HOSTS."
        )
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, address, **kwargs):
        super().__init__(host, **kwargs)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to the checked address, verifying the certificate against the host name."""

    def __init__(self, host, address, **kwargs):
        super().__init__(host, context=ssl.create_default_context(), **kwargs)
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(*, url: str, secret: str, payload: dict, delivery: str) -> None:
    """POST the signed payload; returns on a 2xx, raises WebhookFailure otherwise."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES or not parts.hostname:
        raise WebhookFailure("The webhook URL is not an http(s) URL.")
    port = parts.port or SCHEMES[scheme]
    address = _public_address(parts.hostname, port)
    body = body_of(payload)
    timestamp = int(time.time())
    connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(parts.hostname, address, port=port,
                                  timeout=settings.PLANGATE_WEBHOOK_TIMEOUT)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers={
            "Content-Type": "application/json",
            "User-Agent": "Plangate-Webhook/1",
            SIGNATURE_HEADER: signature(secret, timestamp, body),
            TIMESTAMP_HEADER: str(timestamp),
            DELIVERY_HEADER: delivery,
        })
        response = connection.getresponse()
        response.read(1024)
    except (OSError, http.client.HTTPException):
        raise WebhookFailure(f"No answer from {parts.hostname}.") from None
    finally:
        connection.close()
    if not 200 <= response.status < 300:
        raise WebhookFailure(f"{parts.hostname} answered HTTP {response.status}"
                             + (" (redirects are not followed)."
                                if 300 <= response.status < 400 else "."))
