"""The gate's operations, shared by the command line, the hook and the MCP server.

- `read_plan_file`: the exact text of a plan file.
- `submit`: create or revise the plan, then send it for review.
- `DecisionWait`: short polls with If-None-Match until the plan is decided or time runs out;
  an approval counts only if the approved hash is the waited-for text's.
- `verify`: is exactly this text approved?
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from plangate.api import AMENDABLE, APPROVED_STATES, DECIDED, ApiError, PlangateAPI, UsageError
from plangate.memory import PlanMemory

#: Exit codes of `plangate submit --wait` (decisions) and `plangate verify` (states).
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NEEDS_REVISION = 3
EXIT_REJECTED = 4
EXIT_TIMEOUT = 5
EXIT_PENDING = 6
EXIT_CHANGED = 7
EXIT_UNKNOWN = 8
EXIT_DRAFT = 9
#: `plangate drift`: a changed file that no step of the approved plan lists. Like `verify`'s
#: 6 (pending), it means "not cleared": the work may not go ahead as it is.
EXIT_DRIFT = 6

DECISION_EXIT = {**dict.fromkeys(APPROVED_STATES, EXIT_OK),
                 "NEEDS_REVISION": EXIT_NEEDS_REVISION, "REJECTED": EXIT_REJECTED}

#: `plangate verify`: one exit code per answer of POST /api/v1/verify.
VERIFY_EXIT = {
    "approved": EXIT_OK,
    "needs_revision": EXIT_NEEDS_REVISION,
    "rejected": EXIT_REJECTED,
    "pending": EXIT_PENDING,
    "changed": EXIT_CHANGED,
    "unknown": EXIT_UNKNOWN,
    "draft": EXIT_DRAFT,
}

DEFAULT_POLL_INTERVAL = 2.0

#: While waiting, this many failed polls in a row (server unreachable, 502/503/504: a restart,
#: a deploy) are ridden out before the wait gives up with the error.
TRANSIENT = (None, 429, 502, 503, 504)
MAX_TRANSIENT_FAILURES = 5


def read_plan_file(path: str | Path) -> str:
    """The file's exact text (no newline translation: the hash is of what is on disk)."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            return handle.read()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read it ({exc})") from None


@dataclass
class Submission:
    plan: dict
    #: "created", "revised", "resubmitted" (a draft sent again), "unchanged" (this text is
    #: already the plan's current revision, under review or decided), "amended" (an approved
    #: plan's new text, sent for review as an amendment).
    action: str
    note: str = ""


class GateError(ApiError):
    """A refusal decided on the client side (e.g. the plan is under review with other text)."""


def submit(api: PlangateAPI, text: str, *, plan_id: int | None = None,
           memory: PlanMemory | None = None, new: bool = False) -> Submission:
    """Send `text` for review as plan `plan_id`, else as the plan `memory` remembers, else as a
    new plan (remembered at once, so a failed submit is revised next time, not duplicated).

    A plan that is already under review (or decided) with exactly this text is left alone, so
    `submit --wait` can be run again after a timeout and simply keeps waiting."""
    note = ""
    explicit = plan_id is not None
    if plan_id is None and memory is not None and not new:
        plan_id = memory.recall()
    if plan_id is not None:
        try:
            plan = api.get_plan(plan_id)
        except ApiError as exc:
            if exc.status != 404 or explicit:
                raise
            note = f"plan {plan_id} no longer exists on the server; creating a new plan"
            plan_id = None
    if plan_id is None:
        plan = api.create_plan(text)
        if memory is not None:
            memory.remember(plan["id"])
        return Submission(api.submit_plan(plan["id"]), "created", note)

    status = plan["status"]
    if status in ("DRAFT", "NEEDS_REVISION"):
        api.revise_plan(plan_id, text)
        submitted = api.submit_plan(plan_id)
        if memory is not None:
            memory.remember(plan_id)
        if status == "NEEDS_REVISION" and submitted.get("unchanged"):
            note = (f"plan {plan_id} was resubmitted with the text it was sent back with: the "
                    "reviewers read nothing new (say why in a comment on the plan)")
        return Submission(submitted, "revised" if status == "NEEDS_REVISION" else "resubmitted",
                          note)

    current = (plan.get("revision") or {}).get("sha256")
    same_text = current is not None and api.verify(text, plan_id)["sha256"] == current
    if same_text:
        if memory is not None:
            memory.remember(plan_id)
        return Submission(plan, "unchanged")
    if status == "PENDING_REVIEW":
        raise GateError(f"plan {plan_id} is under review with different text; wait for the "
                        f"decision, or withdraw it at {plan['url']} and submit again")
    if status in AMENDABLE:
        # The implementation needs more than was approved: the new text is an amendment,
        # reviewed under the same policy; until it is approved the approved text still counts.
        amended = api.amend_plan(plan_id, text)
        if memory is not None:
            memory.remember(plan_id)
        return Submission(amended, "amended")
    raise GateError(f"plan {plan_id} is {status} with different text; it cannot be revised: "
                    f"start a new plan (--new, or new=true in submit_plan)")


class DecisionWait:
    """Waits for a decision with short polls: each GET sends the last ETag, and the server
    answers 304 in a few milliseconds while nothing changed, so no web worker is held."""

    def __init__(self, api: PlangateAPI, plan_id: int, *, timeout: float | None,
                 interval: float = DEFAULT_POLL_INTERVAL,
                 clock: Callable[[], float] = time.monotonic, sha256: str | None = None):
        self.api = api
        self.plan_id = plan_id
        #: The submitted text's hash; if not given, the revision's seen at the first answer.
        self.sha256 = sha256
        self.interval = max(interval, 0.0)
        self.clock = clock
        self.deadline = None if timeout is None else clock() + max(timeout, 0.0)
        self.etag: str | None = None
        self.plan: dict | None = None
        self.polls = 0
        self.failures = 0

    def poll(self) -> dict | None:
        """One poll. The decided plan, or None while it is still under review."""
        self.polls += 1
        try:
            plan, self.etag = self.api.poll_plan(self.plan_id, self.etag)
        except ApiError as exc:
            self.failures += 1
            if exc.status in TRANSIENT and self.failures <= MAX_TRANSIENT_FAILURES:
                return None  # try again at the next poll
            raise
        self.failures = 0
        if plan is not None:
            self.plan = plan
            if self.sha256 is None:
                self.sha256 = (plan.get("revision") or {}).get("sha256")
            if plan["status"] == "DRAFT":
                raise GateError(f"plan {self.plan_id} was withdrawn (it is a draft again); "
                                f"nobody is reviewing it")
        if self.plan is not None and self.plan["status"] in DECIDED:
            return self.plan
        return None

    def approved_other_text(self, plan: dict) -> bool:
        """Approved, but not the text waited for (it was changed and resubmitted meanwhile)."""
        return (plan["status"] in APPROVED_STATES
                and (not self.sha256 or plan.get("approved_sha256") != self.sha256))

    def exit_code(self, plan: dict) -> int:
        """`submit --wait`'s exit code for the decided plan: 7 if another text was approved."""
        return EXIT_CHANGED if self.approved_other_text(plan) else DECISION_EXIT[plan["status"]]

    def next_delay(self) -> float | None:
        """Seconds to wait before the next poll, or None once the deadline has passed."""
        if self.deadline is None:
            return self.interval
        left = self.deadline - self.clock()
        if left <= 0:
            return None
        return min(self.interval, left)

    def run(self, sleep: Callable[[float], None] = time.sleep) -> dict | None:
        """Poll until decided (the plan) or timed out (None)."""
        while (decided := self.poll()) is None:
            delay = self.next_delay()
            if delay is None:
                return None
            sleep(delay)
        return decided


def verify(api: PlangateAPI, text: str, *, plan_id: int | None = None) -> tuple[int, dict]:
    """POST /verify; the answer and the exit code of its state."""
    answer = api.verify(text, plan_id)
    state = str(answer.get("state") or "unknown")
    if answer.get("approved") is True:
        return EXIT_OK, answer
    code = VERIFY_EXIT.get(state, EXIT_UNKNOWN)
    return (EXIT_UNKNOWN if code == EXIT_OK else code), answer


def decision_text(plan: dict, feedback: dict) -> str:
    """What `submit --wait` prints once decided: the decision, then the reviewers' feedback."""
    revision = (plan.get("revision") or {}).get("number")
    head = f"Decision: {plan['status']}" + (f" (revision {revision})" if revision else "")
    body = (feedback.get("markdown") or "").strip()
    text = f"{head}\n{plan.get('url', '')}\n"
    return f"{text}\n{body}\n" if body else text
