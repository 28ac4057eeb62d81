"""A fake Plangate server for the client's unit tests: the API contract's author-side endpoints
as an httpx.MockTransport, with plans in a dict. Tests decide plans with `decide()` (or from an
`on_poll` callback) and read `requests` to see what the client sent."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable

import httpx

BASE = "http://plangate.test"
TOKEN = "good-token"


def problem(status: int, detail: str, **extra) -> httpx.Response:
    body = {"type": "about:blank", "title": httpx.codes.get_reason_phrase(status),
            "status": status, "detail": detail, **extra}
    return httpx.Response(status, json=body, headers={"Content-Type": "application/problem+json"})


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class FakePlangate:
    def __init__(self):
        self.plans: dict[int, dict] = {}
        self.texts: dict[int, str] = {}
        self.hashes: dict[int, list[str]] = {}  # every submitted revision's hash, per plan
        self.feedback_md: dict[int, str] = {}
        self.versions: dict[int, int] = {}
        self.requests: list[httpx.Request] = []
        self.on_poll: Callable[[FakePlangate, int], None] | None = None
        self.polls = 0
        self.rate_limit_next = 0  # answer this many requests with 429 first
        self.refuse_next_submit = ""  # a 400 detail for the next submit, once
        self.planned: dict[int, list[str]] = {}  # the approved plan's files, for drift
        self.progress: list[dict] = []
        self.drift_reports: list[dict] = []

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    # What reviewers do, in tests -----------------------------------------------------------

    def decide(self, plan_id: int, status: str, feedback: str = "") -> None:
        plan = self.plans[plan_id]
        plan["status"] = status
        if status == "APPROVED":
            plan["approved_sha256"] = plan["revision"]["sha256"]
        self.feedback_md[plan_id] = feedback
        self.versions[plan_id] += 1

    def add(self, text: str, status: str = "DRAFT") -> int:
        plan_id = self._create(text)
        if status != "DRAFT":
            self._submit(plan_id)
            if status != "PENDING_REVIEW":
                self.decide(plan_id, status)
        return plan_id

    # The API --------------------------------------------------------------------------------

    def _create(self, text: str) -> int:
        plan_id = len(self.plans) + 1
        title = text.splitlines()[0].lstrip("# ") if text else ""
        self.plans[plan_id] = {
            "id": plan_id, "title": title, "status": "DRAFT", "url": f"{BASE}/plans/{plan_id}/",
            "author": "alice", "revision": None, "approved_sha256": None,
            "updated_at": "2026-12-01T08:00:00Z", "steps": [],
        }
        self.texts[plan_id] = text
        self.hashes[plan_id] = []
        self.versions[plan_id] = 1
        return plan_id

    def _submit(self, plan_id: int) -> None:
        plan = self.plans[plan_id]
        number = (plan["revision"] or {}).get("number", 0) + 1
        digest = sha(self.texts[plan_id])
        plan["revision"] = {"number": number, "sha256": digest,
                            "created_at": "2026-12-01T08:00:00Z"}
        plan["status"] = "PENDING_REVIEW"
        self.hashes[plan_id].append(digest)
        self.versions[plan_id] += 1

    def _verify(self, text: str, plan_id: int | None) -> dict:
        digest = sha(text)
        answer = {"approved": False, "sha256": digest, "plan": None, "revision": None,
                  "approved_by": [], "approved_at": None, "policy": None}
        for pid, plan in self.plans.items():
            if digest in self.hashes[pid]:
                state = {"APPROVED": "approved", "PENDING_REVIEW": "pending",
                         "NEEDS_REVISION": "needs_revision", "REJECTED": "rejected",
                         "DRAFT": "draft", "IMPLEMENTING": "approved",
                         "IMPLEMENTED": "approved", "VERIFIED": "approved"}[plan["status"]]
                if plan["revision"]["sha256"] != digest:
                    state = "changed" if plan["approved_sha256"] else "unknown"
                answer.update(state=state, reason=f"plan {pid} is {state}", plan=pid,
                              revision=plan["revision"]["number"])
                if state == "approved":
                    answer.update(approved=True, approved_by=["rob"],
                                  approved_at="2026-12-01T09:00:00Z")
                return answer
        if plan_id in self.plans and self.plans[plan_id]["approved_sha256"]:
            answer.update(state="changed", plan=plan_id,
                          reason=f"plan {plan_id} was approved with other text")
            return answer
        answer.update(state="unknown", reason="no plan has this text")
        return answer

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.rate_limit_next:
            self.rate_limit_next -= 1
            response = problem(429, "too many requests")
            response.headers["Retry-After"] = "7"
            return response
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return problem(401, "Invalid token.")
        path = request.url.path.removeprefix("/api/v1/")
        body = json.loads(request.content) if request.content else {}
        if request.method == "POST" and path == "plans":
            if "BROKEN" in body["markdown"]:
                return problem(400, "The Markdown is not a plan.",
                               lines=[{"line": 3, "message": "unknown section 'Foo'"},
                                      {"line": 9, "message": "step without a title"}])
            return httpx.Response(201, json=self.plans[self._create(body["markdown"])])
        if request.method == "POST" and path == "verify":
            return httpx.Response(200, json=self._verify(body["markdown"], body.get("plan")))
        match = re.fullmatch(r"plans/(\d+)(?:/(\w+))?", path)
        if not match or int(match[1]) not in self.plans:
            return problem(404, "Not found.")
        plan_id, action = int(match[1]), match[2]
        plan = self.plans[plan_id]
        etag = f'"v{self.versions[plan_id]}"'
        if request.method == "GET" and action is None:
            self.polls += 1
            if self.on_poll:
                self.on_poll(self, plan_id)
                etag = f'"v{self.versions[plan_id]}"'
            if request.headers.get("If-None-Match") == etag:
                return httpx.Response(304, headers={"ETag": etag})
            return httpx.Response(200, json=plan, headers={"ETag": etag})
        if request.method == "GET" and action == "markdown":
            return httpx.Response(200, text=self.texts[plan_id],
                                  headers={"Content-Type": "text/markdown"})
        if request.method == "GET" and action == "feedback":
            return httpx.Response(200, json={"status": plan["status"],
                                             "markdown": self.feedback_md.get(plan_id, ""),
                                             "decisions": [], "comments": [], "concerns": [],
                                             "checklist_no": []})
        if request.method == "POST" and action == "revise":
            if plan["status"] not in ("DRAFT", "NEEDS_REVISION"):
                return problem(409, "Only a draft or a plan sent back can be revised.")
            self.texts[plan_id] = body["markdown"]
            self.versions[plan_id] += 1
            return httpx.Response(200, json=plan)
        if request.method == "POST" and action == "submit":
            if self.refuse_next_submit:
                detail, self.refuse_next_submit = self.refuse_next_submit, ""
                return problem(400, detail)
            if plan["status"] not in ("DRAFT", "NEEDS_REVISION"):
                return problem(409, "This plan is already under review.")
            self._submit(plan_id)
            unchanged = self.hashes[plan_id][-2:-1] == self.hashes[plan_id][-1:]
            return httpx.Response(200, json={**plan, "unchanged": unchanged})
        if request.method == "POST" and action in ("start", "finish", "amend", "progress",
                                                    "drift"):
            return self._after_approval(plan_id, action, body)
        return problem(405, "Method not allowed.")

    def _after_approval(self, plan_id: int, action: str, body: dict) -> httpx.Response:
        """The after-approval endpoints, as far as the client needs them."""
        plan = self.plans[plan_id]
        moves = {"start": ("APPROVED", "IMPLEMENTING"), "finish": ("IMPLEMENTING", "IMPLEMENTED")}
        if action in moves:
            source, target = moves[action]
            if plan["status"] != source:
                return problem(409, f"This plan is {plan['status']}.")
            plan["status"] = target
            self.versions[plan_id] += 1
            return httpx.Response(200, json=plan)
        if action == "amend":
            if plan["status"] not in ("APPROVED", "IMPLEMENTING", "IMPLEMENTED"):
                return problem(409, "Only an approved plan can be amended.")
            self.texts[plan_id] = body["markdown"]
            self._submit(plan_id)
            return httpx.Response(200, json=plan)
        if action == "progress":
            if plan["status"] == "APPROVED":
                plan["status"] = "IMPLEMENTING"
            report = {"id": len(self.progress) + 1, "step": body["step"],
                      "step_title": f"Step {body['step']}", "action": body.get("action"),
                      "note": body.get("note", ""), "commit": body.get("commit", "").lower(),
                      "reported_by": "alice", "created_at": "2026-12-01T10:00:00Z"}
            self.progress.append(report)
            return httpx.Response(201, json=report)
        planned = self.planned.get(plan_id, [])
        files = sorted(body["files"])
        report = {"id": len(self.drift_reports) + 1, "revision": 1,
                  "clear": all(f in planned for f in files), "base": body["base"],
                  "head": body["head"], "head_commit": body["head_commit"], "changed": files,
                  "unplanned": [f for f in files if f not in planned],
                  "untouched": [p for p in planned if p not in files],
                  "matches": {f: [planned.index(f) + 1] for f in files if f in planned},
                  "url": f"{BASE}/implementation/plan/{plan_id}/"}
        self.drift_reports.append(report)
        return httpx.Response(201, json=report)
