"""The load of bench/faults.py: signed-in people clicking through the site, and the SMTP sink.

Each client is a thread with its own HTTP connection and the cookies of a real login (the login
form, with its CSRF token). Reviewers open plans under review, answer the checklist and decide;
authors revise and resubmit what was sent back and submit new plans; everyone reads pages and
comments. Half of the writes go through the HTML forms (with the CSRF token and the HX-Request
header htmx sends, so a refusal is a 4xx instead of a redirect), half through the REST API with
a token. Every response is recorded: what was asked, its status and its latency; every accepted
decision as (review, plan, revision, decision).
"""

from __future__ import annotations

import random
import re
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser

import httpx
from aiosmtpd.controller import Controller

THINK_SECONDS = (0.02, 0.15)  # between two clicks of one client
MAX_NEW_PLANS = 4  # per author client and phase: the data grows, boundedly
_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


# --- the SMTP sink --------------------------------------------------------------------------------
class _Recorder:
    """aiosmtpd handler: keeps every message's Message-ID (raw, duplicates included)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.message_ids: list[str] = []
        self.without_id = 0

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's name for it
        headers = BytesHeaderParser().parsebytes(envelope.original_content or envelope.content)
        message_id = (headers.get("Message-ID") or "").strip()
        with self.lock:
            if message_id:
                self.message_ids.append(message_id)
            else:
                self.without_id += 1
        return "250 Message accepted for delivery"


class SmtpSink:
    """A local SMTP server on 127.0.0.1:<port> in a thread of this process."""

    def __init__(self, port: int) -> None:
        self.recorder = _Recorder()
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    def seen(self) -> list[str]:
        with self.recorder.lock:
            return list(self.recorder.message_ids)


# --- signing in -----------------------------------------------------------------------------------
def login(base_url: str, username: str, password: str) -> httpx.Cookies:
    """Sign in through the login form; returns the session's cookies (with their domain, so
    the CSRF cookie the server sets again later replaces this one)."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        page = client.get("/accounts/login/")
        page.raise_for_status()
        token = _CSRF_INPUT.search(page.text).group(1)
        answer = client.post("/accounts/login/", data={
            "csrfmiddlewaretoken": token, "username": username, "password": password,
        })
        if answer.status_code != 302 or "sessionid" not in client.cookies:
            raise RuntimeError(f"login of {username} answered {answer.status_code}")
        return httpx.Cookies(client.cookies)


# --- recording ------------------------------------------------------------------------------------
@dataclass
class Recorder:
    """Every response of every client (shared, behind a lock)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    #: (time, what, status, milliseconds); status 0: no answer, or the client failed
    responses: list[tuple[float, str, int, float]] = field(default_factory=list)
    decisions: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # a sample of 5xx and transport errors

    def response(self, what: str, status: int, ms: float, detail: str = "") -> None:
        with self.lock:
            self.responses.append((time.time(), what, status, ms))
            if (status >= 500 or status == 0) and len(self.errors) < 50:
                self.errors.append(f"{what} -> {status} {detail[:300]}")

    def decision(self, **row) -> None:
        with self.lock:
            self.decisions.append(row)


# --- one client -----------------------------------------------------------------------------------
class Client:
    def __init__(self, *, base_url: str, user: dict, cookies: httpx.Cookies, recorder: Recorder,
                 texts: list[str], seed: int) -> None:
        self.user = user
        self.recorder = recorder
        self.texts = texts
        self.random = random.Random(seed)
        self.http = httpx.Client(base_url=base_url, cookies=cookies, timeout=30,
                                 follow_redirects=False)
        self.api_headers = {"Authorization": f"Bearer {user['token']}"}
        self.created = 0
        self.reviews: list[int] = []
        self.current: int | None = None  # the plan whose review this reviewer is in the middle of
        self.plans: list[int] = list(user.get("plans", []))

    # requests
    def _call(self, what: str, method: str, path: str, **kwargs) -> httpx.Response | None:
        began = time.perf_counter()
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            self.recorder.response(what, 0, (time.perf_counter() - began) * 1000, repr(exc))
            return None
        ms = (time.perf_counter() - began) * 1000
        self.recorder.response(what, response.status_code, ms,
                               response.text if response.status_code >= 500 else "")
        return response

    def page(self, what: str, path: str) -> httpx.Response | None:
        return self._call(what, "GET", path)

    def form(self, what: str, path: str, data: dict) -> httpx.Response | None:
        """A form post as htmx sends it: the CSRF token in its header, HX-Request set."""
        headers = {"X-CSRFToken": self.http.cookies.get("csrftoken", ""), "HX-Request": "true"}
        return self._call(what, "POST", path, data=data, headers=headers)

    def api(self, what: str, method: str, path: str, body=None) -> httpx.Response | None:
        return self._call(what, method, path, json=body, headers=self.api_headers)

    def api_json(self, what: str, method: str, path: str, body=None):
        response = self.api(what, method, path, body)
        if response is None or not response.is_success:
            return None
        return response.json()

    # what people do
    def browse(self) -> None:
        pick = self.random.random()
        if pick < 0.35:
            self.page("page: plan list", "/plans/")
        elif pick < 0.65 and self.plans:
            self.page("page: plan detail", f"/plans/{self.random.choice(self.plans)}/")
        elif pick < 0.85 and self.reviews:
            self.page("page: review", f"/reviews/{self.random.choice(self.reviews)}/")
        else:
            self.page("page: inbox", "/notifications/")

    def comment(self, plan_id: int) -> None:
        body = f"Load-test comment {self.random.randrange(10**6)} by {self.user['username']}."
        if self.random.random() < 0.5:
            self.form("form: comment", f"/reviews/plan/{plan_id}/comments/", {"body": body})
        else:
            self.api("api: comment", "POST", f"/api/v1/plans/{plan_id}/comments", {"body": body})

    def _plans(self, query: str) -> list[dict]:
        page = self.api_json("api: plan list", "GET", f"/api/v1/plans?{query}")
        return page["results"] if page else []

    def review_step(self) -> None:
        """Open a plan under review, answer some of its checklist, decide once all answered."""
        plan_id, self.current = self.current, None
        if plan_id is None:  # a reviewer goes on with the review they started, else picks one
            pending = self._plans("status=PENDING_REVIEW")
            if not pending:
                return
            plan_id = self.random.choice(pending)["id"]
        if plan_id not in self.plans:
            self.plans.append(plan_id)
        review = self.api_json("api: start review", "POST", f"/api/v1/plans/{plan_id}/reviews")
        if review is None or review["decision"]:
            return
        self.current = plan_id
        if review["id"] not in self.reviews:
            self.reviews.append(review["id"])
        if self.random.random() < 0.3:
            self.page("page: review", f"/reviews/{review['id']}/")
        answered = {a["item"]: a["answer"] for a in review["answers"]}
        todo = [i["item"] for i in review["checklist"] if i["item"] not in answered]
        for item in todo[: self.random.randint(3, 8)]:
            answer = "no" if self.random.random() < 0.03 else "yes"
            answered[item] = answer
            data = {"item": item, "answer": answer, "note": "", "revision": review["revision"]}
            if self.random.random() < 0.5:
                self.form("form: answer", f"/reviews/{review['id']}/answer/", data)
            else:
                self.api("api: answer", "POST", f"/api/v1/reviews/{review['id']}/answers", data)
        if len(answered) < len(review["checklist"]):
            return
        if "no" in answered.values() or self.random.random() < 0.25:
            decision, comment = "NEEDS_REVISION", "Please tighten the rollback step."
        else:
            decision, comment = "APPROVED", ""
        data = {"decision": decision, "comment": comment, "revision": review["revision"]}
        if self.random.random() < 0.5:
            response = self.form("form: decide", f"/reviews/{review['id']}/decide/", data)
            accepted = response is not None and response.status_code == 302
        else:
            response = self.api("api: decide", "POST", f"/api/v1/reviews/{review['id']}/decision",
                                data)
            accepted = response is not None and response.status_code == 200
        self.current = None
        if accepted:
            self.recorder.decision(review=review["id"], plan=plan_id,
                                   revision=review["revision"], decision=decision,
                                   reviewer=self.user["username"])

    def author_step(self) -> None:
        """Resubmit what was sent back (revised), submit drafts, now and then a new plan."""
        mine = self._plans("mine=true")
        for plan in mine:
            if plan["id"] not in self.plans:
                self.plans.append(plan["id"])
        actionable = [p for p in mine if p["status"] in ("NEEDS_REVISION", "DRAFT")]
        if actionable:
            plan = self.random.choice(actionable)
            if plan["status"] == "NEEDS_REVISION":
                text = self._text(f"revised {self.random.randrange(10**6)}")
                if self.api("api: revise", "POST", f"/api/v1/plans/{plan['id']}/revise",
                            {"markdown": text}) is None:
                    return
            self._submit(plan["id"])
        elif self.created < MAX_NEW_PLANS:
            created = self.api_json("api: create plan", "POST", "/api/v1/plans",
                                    {"markdown": self._text(f"new {self.random.randrange(10**6)}")})
            if created is not None:
                self.created += 1
                self.plans.append(created["id"])
                self._submit(created["id"])
        elif self.plans:
            self.comment(self.random.choice(self.plans))

    def _submit(self, plan_id: int) -> None:
        if self.random.random() < 0.5:
            self.form("form: submit", f"/reviews/plan/{plan_id}/submit/", {})
        else:
            self.api("api: submit", "POST", f"/api/v1/plans/{plan_id}/submit")

    def _text(self, tag: str) -> str:
        text = self.random.choice(self.texts)
        first, _, rest = text.partition("\n")
        return f"{first} ({tag})\n{rest}"

    def step(self) -> None:
        role = self.user["role"]
        pick = self.random.random()
        if pick < 0.4:
            self.browse()
        elif role == "reviewer":
            if pick < 0.9:
                self.review_step()
            elif self.plans:
                self.comment(self.random.choice(self.plans))
        elif role == "author":
            self.author_step()
        else:  # the admin reads the record
            if self.plans and pick < 0.7:
                self.page("page: timeline",
                          f"/reviews/plan/{self.random.choice(self.plans)}/timeline/")
            else:
                self.page("page: audit", "/audit/")

    def run(self, stop: threading.Event) -> None:
        self.created = 0
        while not stop.is_set():
            try:
                self.step()
            except Exception as exc:  # a client bug must not look like a quiet server
                self.recorder.response("client error", 0, 0.0, repr(exc))
            stop.wait(self.random.uniform(*THINK_SECONDS))

    def close(self) -> None:
        self.http.close()


class Load:
    """CLIENTS threads running until stop(); the recorder is kept across phases."""

    def __init__(self, clients: list[Client]) -> None:
        self.clients = clients
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        self.stop_event.clear()
        self.threads = [threading.Thread(target=c.run, args=(self.stop_event,), daemon=True)
                        for c in self.clients]
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout=40)
