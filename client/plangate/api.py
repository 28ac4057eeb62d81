"""A small synchronous client for Plangate's REST API (`/api/v1/`, see the API contract).

Every failure becomes one `ApiError` whose `str()` is a one-line reason a person (or an agent)
can act on: the server's problem-details `detail`, or why the server could not be reached.
Markdown errors keep their line numbers in `ApiError.lines`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from plangate import __version__

#: Plan states after which nobody is reviewing any more (a decision was taken). After approval
#: the plan moves on (implementing, implemented, verified): it stays approved.
APPROVED_STATES = ("APPROVED", "IMPLEMENTING", "IMPLEMENTED", "VERIFIED")
DECIDED = (*APPROVED_STATES, "NEEDS_REVISION", "REJECTED")
#: States in which a changed plan text is an amendment (reviewed again), not a new plan.
AMENDABLE = ("APPROVED", "IMPLEMENTING", "IMPLEMENTED")

#: 429 answers are retried this many times, waiting what Retry-After says (capped).
RATE_LIMIT_RETRIES = 3
RATE_LIMIT_MAX_WAIT = 60.0


class UsageError(Exception):
    """The command was called wrongly (missing configuration, unreadable file): exit code 2."""


@dataclass
class ApiError(Exception):
    """The server refused the request, or could not be reached (`status` None)."""

    message: str
    status: int | None = None
    lines: list[dict] = field(default_factory=list)

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Settings:
    """Where the server is and who we are: flags first, then PLANGATE_URL / PLANGATE_TOKEN."""

    url: str
    token: str

    @classmethod
    def resolve(cls, url: str | None = None, token: str | None = None) -> Settings:
        url = (url or os.environ.get("PLANGATE_URL", "")).strip()
        token = (token or os.environ.get("PLANGATE_TOKEN", "")).strip()
        if not url:
            raise UsageError("no server: set PLANGATE_URL (e.g. https://plangate.example.com) "
                             "or pass --url")
        if not url.startswith(("http://", "https://")):
            raise UsageError(f"PLANGATE_URL must start with http:// or https:// (got {url!r})")
        try:
            httpx.URL(normalise_url(url))
        except httpx.InvalidURL as exc:
            raise UsageError(f"PLANGATE_URL is not a valid URL ({exc}): {url!r}") from None
        if not token:
            raise UsageError("no API token: set PLANGATE_TOKEN (create one on the API tokens "
                             f"page, {normalise_url(url)}/api/tokens/) or pass --token")
        return cls(url=normalise_url(url), token=token)


def normalise_url(url: str) -> str:
    """The site root, whether the user gave `https://host/`, `https://host` or `.../api/v1/`."""
    url = url.strip().rstrip("/")
    if url.endswith("/api/v1"):
        url = url[: -len("/api/v1")]
    return url


def _problem(response: httpx.Response) -> ApiError:
    """An RFC 9457 problem-details answer (or anything else that is not 2xx) as one ApiError."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    status = response.status_code
    detail = str(body.get("detail") or body.get("title") or response.reason_phrase or "error")
    if status == 401:
        detail = f"{detail} (check PLANGATE_TOKEN)"
    elif status == 404 and "problem+json" not in response.headers.get("Content-Type", ""):
        # Not the API's own 404 (a missing plan is problem+json): the path missed the API.
        root = f"{response.request.url.scheme}://{response.request.url.netloc.decode()}"
        detail = f"{detail} (is PLANGATE_URL the site's root, e.g. {root}?)"
    errors = body.get("errors")
    if isinstance(errors, dict) and errors:
        fields = "; ".join(f"{name}: {' '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}"
                           for name, msgs in errors.items())
        if " ".join(fields.split()) not in " ".join(detail.split()):  # not said twice
            detail = f"{detail} ({fields})"
    lines = [line for line in body.get("lines") or [] if isinstance(line, dict)]
    return ApiError(f"HTTP {status}: {' '.join(detail.split())}", status=status, lines=lines)


class PlangateAPI:
    """The endpoints the client uses. `transport` lets tests answer without a network."""

    def __init__(self, settings: Settings, *, transport: httpx.BaseTransport | None = None,
                 timeout: float = 30.0, sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=f"{settings.url}/api/v1/",
            headers={
                "Authorization": f"Bearer {settings.token}",
                "Accept": "application/json",
                "User-Agent": f"plangate/{__version__}",
            },
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PlangateAPI:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def request(self, method: str, path: str, *, json: dict | None = None,
                headers: dict | None = None, ok: tuple[int, ...] = (200, 201)) -> httpx.Response:
        """One call; 429 answers are retried after Retry-After, other failures raise ApiError."""
        for attempt in range(RATE_LIMIT_RETRIES + 1):
            try:
                response = self._http.request(method, path, json=json, headers=headers)
            except httpx.TransportError as exc:
                reason = str(exc) or type(exc).__name__
                raise ApiError(f"cannot reach Plangate at {self.settings.url} ({reason})") from exc
            except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError,
                    httpx.CookieConflict) as exc:  # e.g. a body that does not decode
                reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                raise ApiError(f"no usable answer from Plangate at {self.settings.url} "
                               f"({reason})") from exc
            if response.status_code == 429 and attempt < RATE_LIMIT_RETRIES:
                self._sleep(retry_after(response))
                continue
            if response.status_code in ok:
                return response
            raise _problem(response)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _json(self, method: str, path: str, body: dict | None = None) -> dict:
        return self._decode(self.request(method, path, json=body))

    def _decode(self, response: httpx.Response) -> dict:
        try:
            data = response.json()
        except ValueError as exc:
            raise ApiError(f"HTTP {response.status_code}: the server did not answer JSON "
                           f"(is {self.settings.url} a Plangate server?)") from exc
        if not isinstance(data, dict):
            raise ApiError(f"HTTP {response.status_code}: unexpected answer from the server")
        return data

    # Author side --------------------------------------------------------------------------

    def create_plan(self, markdown: str) -> dict:
        return self._json("POST", "plans", {"markdown": markdown})

    def revise_plan(self, plan_id: int, markdown: str) -> dict:
        return self._json("POST", f"plans/{plan_id}/revise", {"markdown": markdown})

    def submit_plan(self, plan_id: int) -> dict:
        return self._json("POST", f"plans/{plan_id}/submit")

    def get_plan(self, plan_id: int) -> dict:
        return self._json("GET", f"plans/{plan_id}")

    def poll_plan(self, plan_id: int, etag: str | None) -> tuple[dict | None, str | None]:
        """One short poll: (plan, its ETag), or (None, etag) when nothing changed (304)."""
        headers = {"If-None-Match": etag} if etag else None
        response = self.request("GET", f"plans/{plan_id}", headers=headers, ok=(200, 304))
        if response.status_code == 304:
            return None, etag
        return self._decode(response), response.headers.get("ETag")

    def export_markdown(self, plan_id: int) -> str:
        response = self.request("GET", f"plans/{plan_id}/markdown",
                                headers={"Accept": "text/markdown"})
        return response.text

    def feedback(self, plan_id: int) -> dict:
        return self._json("GET", f"plans/{plan_id}/feedback")

    # After approval -----------------------------------------------------------------------

    def amend_plan(self, plan_id: int, markdown: str) -> dict:
        return self._json("POST", f"plans/{plan_id}/amend", {"markdown": markdown})

    def start_implementation(self, plan_id: int) -> dict:
        return self._json("POST", f"plans/{plan_id}/start")

    def finish_implementation(self, plan_id: int) -> dict:
        return self._json("POST", f"plans/{plan_id}/finish")

    def report_progress(self, plan_id: int, step: int, *, action: int | None = None,
                        note: str = "", commit: str = "") -> dict:
        body: dict = {"step": step, "note": note, "commit": commit}
        if action is not None:
            body["action"] = action
        return self._json("POST", f"plans/{plan_id}/progress", body)

    def upload_drift(self, plan_id: int, files: list[str], *, base: str = "", head: str = "",
                     head_commit: str = "") -> dict:
        return self._json("POST", f"plans/{plan_id}/drift",
                          {"files": files, "base": base, "head": head,
                           "head_commit": head_commit})

    def implementation(self, plan_id: int) -> dict:
        return self._json("GET", f"plans/{plan_id}/implementation")

    def verify(self, markdown: str, plan_id: int | None = None) -> dict:
        body: dict = {"markdown": markdown}
        if plan_id is not None:
            body["plan"] = plan_id
        return self._json("POST", "verify", body)


def retry_after(response: httpx.Response, default: float = 2.0) -> float:
    """Seconds a 429 asks us to wait (Retry-After in seconds), within [0, RATE_LIMIT_MAX_WAIT]."""
    try:
        seconds = float(response.headers.get("Retry-After", default))
    except ValueError:
        seconds = default
    return min(max(seconds, 0.0), RATE_LIMIT_MAX_WAIT)
