"""`plangate mcp`: the gate as MCP tools over stdio (the official SDK's MCPServer).

An agent in Claude Code, Cursor or any MCP client submits its plan, waits for the human
decision, reads the feedback and checks the approval with these tools instead of shell commands.
Relative paths are resolved against the server's working directory (MCP clients start it in the
project folder), and a plan file outside that folder is refused. The tools are plain functions:
the SDK runs them in a worker thread, so a bounded wait does not stall the connection.
"""

# No `from __future__ import annotations`: the SDK reads the tools' signatures at runtime.

import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypedDict

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from plangate import __version__, drift
from plangate.api import ApiError, PlangateAPI, Settings, UsageError
from plangate.gate import DEFAULT_POLL_INTERVAL, DecisionWait, read_plan_file, submit, verify
from plangate.memory import PlanMemory

#: wait_for_decision never blocks longer than this, whatever the caller asks.
MAX_WAIT_SECONDS = 3600.0
DEFAULT_WAIT_SECONDS = 240.0

INSTRUCTIONS = """\
Plangate gates implementation on a human's approval of the exact plan text. Write the plan as
Markdown (Plangate's plan template), call submit_plan, then wait_for_decision. On NEEDS_REVISION
read the feedback, revise the same file and call submit_plan again. Start implementing only when
verify_plan says the current text is approved. While implementing, call report_progress as
each step (or action) is done, and check_drift before finishing: a changed file no step lists
needs an amendment (revise the plan file and call submit_plan again) or must be dropped. Then
call finish_implementation."""


#: An amendment of the approved revision not decided yet, as the server names it: {"revision",
#: "sha256", "state": pending (under review), needs_revision (sent back) or draft (withdrawn)};
#: until it is approved, the revision approved before (approved_sha256) stays approved. A plain
#: dict: a TypedDict inside a tool's result needs typing_extensions' on Python 3.11.
Amendment = dict[str, int | str]


class PlanInfo(TypedDict):
    plan_id: int
    title: str
    status: str
    url: str
    revision: int | None
    sha256: str | None
    approved_sha256: str | None
    amendment: Amendment | None


class SubmitResult(PlanInfo):
    action: str
    note: str


class DecisionResult(TypedDict):
    decided: bool
    approved: bool
    status: str
    url: str
    feedback: str
    message: str


class ProgressResult(TypedDict):
    plan_id: int
    step: int
    step_title: str
    action: int | None
    commit: str
    message: str


class DriftResult(TypedDict):
    clear: bool
    revision: int | None
    base: str
    head: str
    changed: list[str]
    unplanned: list[str]
    untouched: list[str]
    matches: dict[str, list[int]]
    url: str
    message: str


class VerifyResult(TypedDict):
    approved: bool
    state: str
    reason: str
    sha256: str
    plan: int | None
    revision: int | None
    approved_by: list[str]
    approved_at: str | None
    amendment: Amendment | None


PathArg = Annotated[str, Field(description="Path of the plan's Markdown file (relative to the "
                                           "project folder). Give this or markdown.")]
MarkdownArg = Annotated[str, Field(description="The plan's Markdown text itself, if there is no "
                                               "file. Give this or path. Nothing is remembered "
                                               "for text: pass plan_id to revise a plan.")]
PlanIdArg = Annotated[int, Field(description="The plan's id, as submit_plan returned it.", ge=1)]


def _info(plan: dict) -> PlanInfo:
    revision = plan.get("revision") or {}
    return PlanInfo(plan_id=plan["id"], title=plan.get("title", ""), status=plan["status"],
                    url=plan.get("url", ""), revision=revision.get("number"),
                    sha256=revision.get("sha256"), approved_sha256=plan.get("approved_sha256"),
                    amendment=_amendment(plan))


def _amendment(answer: dict) -> Amendment | None:
    """The answer's amendment (a server before amendments were reported has none)."""
    found = answer.get("amendment")
    if not isinstance(found, dict):
        return None
    return {"revision": found.get("revision"), "sha256": found.get("sha256"),
            "state": found.get("state")}


def build_server(*, settings: Callable[[], Settings] = Settings.resolve,
                 api_factory: Callable[[Settings], PlangateAPI] = PlangateAPI,
                 poll_interval: float = DEFAULT_POLL_INTERVAL,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic,
                 cwd: Path | None = None) -> MCPServer:
    """The MCP server; the arguments let tests point it at a fake Plangate."""
    server = MCPServer("plangate", title="Plangate", version=__version__,
                       instructions=INSTRUCTIONS, log_level="WARNING")
    base = cwd or Path.cwd()
    folder = base
    #: (server, plan id) -> the hash of the text submit_plan last sent, for wait_for_decision.
    submitted: dict[tuple[str, int], str] = {}

    def call(operation):
        """Run `operation(api, config)`, turning every failure into a message for the model."""
        try:
            config = settings()
            with api_factory(config) as api:
                return operation(api, config)
        except (UsageError, ApiError) as exc:
            lines = "".join(f"\nline {e.get('line')}: {e.get('message')}"
                            for e in getattr(exc, "lines", []))
            raise ToolError(f"{exc}{lines}") from None

    def text_and_memory(path: str, markdown: str, config: Settings):
        if bool(path) == bool(markdown):
            raise UsageError("give either path (a plan file) or markdown (the plan's text)")
        if markdown:
            return markdown, None
        file = base / path
        return read_plan_file(inside_project(path)), PlanMemory(file, config.url)

    def inside_project(path: str) -> Path:
        """The file `path` names, refused unless it is in the project folder once resolved
        (`..`, absolute paths and symlinks followed): the model must not make the server
        read, and upload, any other file this user can read."""
        root = base.resolve()
        try:
            file = (base / path).resolve()
        except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop (Python < 3.13)
            raise UsageError(f"{path}: cannot read it ({exc})") from None
        if not file.is_relative_to(root):
            raise UsageError(f"{path} is outside the project folder ({root}): the tools read "
                             f"only plan files inside it")
        return file

    @server.tool()
    def submit_plan(path: PathArg = "", markdown: MarkdownArg = "",
                    plan_id: Annotated[int | None, Field(
                        description="Revise this plan instead of the one the file was last "
                                    "submitted as (optional).", ge=1)] = None,
                    new: Annotated[bool, Field(
                        description="Start a new plan even if this file was submitted "
                                    "before.")] = False) -> SubmitResult:
        """Submit an implementation plan for human review. The first call creates the plan;
        later calls with the same file (or plan_id) revise that plan with the new text and send
        it for review again. Returns the plan's id, status and URL; then call
        wait_for_decision."""

        def operation(api, config):
            text, memory = text_and_memory(path, markdown, config)
            if not text.strip():
                raise UsageError(f"{path or 'the markdown'} is empty: write the plan first")
            done = submit(api, text, plan_id=plan_id, memory=memory, new=new)
            submitted[config.url, done.plan["id"]] = (done.plan.get("revision") or {}).get(
                "sha256") or ""
            return SubmitResult(**_info(done.plan), action=done.action, note=done.note)

        return call(operation)

    @server.tool()
    def plan_status(plan_id: PlanIdArg) -> PlanInfo:
        """A plan's review status (DRAFT, PENDING_REVIEW, APPROVED, NEEDS_REVISION or
        REJECTED), its current revision and hash, and the approved hash if any."""
        return call(lambda api, config: _info(api.get_plan(plan_id)))

    @server.tool()
    def wait_for_decision(
        plan_id: PlanIdArg,
        timeout_seconds: Annotated[float, Field(
            description="Stop waiting after this many seconds (at most 3600). If no decision "
                        "came, call again.", ge=0, le=MAX_WAIT_SECONDS)] = DEFAULT_WAIT_SECONDS,
    ) -> DecisionResult:
        """Wait until reviewers decide on the plan (APPROVED, NEEDS_REVISION or REJECTED), at
        most timeout_seconds. Returns the decision and the reviewers' feedback as Markdown:
        comments under the section or step they are about, open concerns, checklist items
        answered No. decided is false if the time ran out; call again to keep waiting.
        approved is true only if the text submitted is the one approved."""

        def operation(api, config):
            wait = DecisionWait(api, plan_id, timeout=min(timeout_seconds, MAX_WAIT_SECONDS),
                                interval=poll_interval, clock=clock,
                                sha256=submitted.get((config.url, plan_id)))
            plan = wait.run(sleep)
            if plan is None:
                current = wait.plan or {}
                return DecisionResult(decided=False, approved=False,
                                      status=current.get("status", ""),
                                      url=current.get("url", ""), feedback="",
                                      message=f"No decision after {timeout_seconds:g} s; "
                                              f"call wait_for_decision again.")
            feedback = api.feedback(plan_id)
            message = f"The reviewers decided {plan['status']}."
            if wait.approved_other_text(plan):
                message = (f"The reviewers approved other text (sha256 "
                           f"{plan.get('approved_sha256')}), not the text submitted (sha256 "
                           f"{wait.sha256}): the plan was changed and resubmitted meanwhile. "
                           f"Your text is not approved; do not implement it.")
            return DecisionResult(decided=True, approved=wait.exit_code(plan) == 0,
                                  status=plan["status"], url=plan.get("url", ""),
                                  feedback=feedback.get("markdown") or "", message=message)

        return call(operation)

    @server.tool()
    def get_feedback(plan_id: PlanIdArg) -> str:
        """The reviewers' feedback on a plan as Markdown an agent can act on: decisions,
        comments under the section or step they are anchored to, open concerns, and checklist
        items answered No with their notes."""
        return call(lambda api, config: api.feedback(plan_id).get("markdown") or "")

    @server.tool()
    def verify_plan(path: PathArg = "", markdown: MarkdownArg = "",
                    plan_id: Annotated[int | None, Field(
                        description="The plan this text belongs to (optional; remembered for "
                                    "submitted files).", ge=1)] = None) -> VerifyResult:
        """Check whether exactly this plan text is approved. Implement only when approved is
        true; state says why not (pending, changed since approval, needs_revision, rejected,
        draft, unknown)."""

        def operation(api, config):
            text, memory = text_and_memory(path, markdown, config)
            known = plan_id if plan_id is not None else (memory.recall() if memory else None)
            _, answer = verify(api, text, plan_id=known)
            return VerifyResult(approved=bool(answer.get("approved")),
                                state=str(answer.get("state", "unknown")),
                                reason=str(answer.get("reason", "")),
                                sha256=str(answer.get("sha256", "")), plan=answer.get("plan"),
                                revision=answer.get("revision"),
                                approved_by=list(answer.get("approved_by") or []),
                                approved_at=answer.get("approved_at"),
                                amendment=_amendment(answer))

        return call(operation)

    @server.tool()
    def report_progress(
        plan_id: PlanIdArg,
        step: Annotated[int, Field(description="The step's number (1-based).", ge=1)],
        action: Annotated[int | None, Field(
            description="Only this action of the step (1-based); omit for the whole step.",
            ge=1)] = None,
        note: Annotated[str, Field(description="What was done, in a line.",
                                   max_length=2000)] = "",
        commit: Annotated[str, Field(description="The commit that did it: a SHA, or a ref "
                                                 "such as HEAD.")] = "",
    ) -> ProgressResult:
        """Mark a step of the approved plan (or one of its actions) done, with an optional note
        and commit. The first report starts the implementation (IMPLEMENTING). While an
        amendment of the plan is under review (or sent back, or withdrawn), number steps as the
        approved revision has them."""

        def operation(api, config):
            sha = drift.commit_of(commit, folder) if commit else ""
            report = api.report_progress(plan_id, step, action=action, note=note, commit=sha)
            what = f"action {report['action']}" if report.get("action") else "the whole step"
            return ProgressResult(plan_id=plan_id, step=report["step"],
                                  step_title=report.get("step_title", ""),
                                  action=report.get("action"), commit=report.get("commit", ""),
                                  message=f"Step {report['step']}: {what} reported done.")

        return call(operation)

    @server.tool()
    def check_drift(
        plan_id: PlanIdArg,
        base: Annotated[str, Field(description="Compare from the merge base with this ref "
                                               "(default: main or master).")] = "",
        head: Annotated[str, Field(description="Up to this ref (default: HEAD).")] = "HEAD",
    ) -> DriftResult:
        """Compare the files this branch changed (git, in the project folder) with the files
        the approved plan's steps list, and upload the report to the plan. clear is false when
        a changed file is in no step (unplanned): amend the plan or drop the change."""

        def operation(api, config):
            since = base or drift.default_base(folder)
            files = drift.changed_files(since, head, folder)
            report = api.upload_drift(plan_id, files, base=since, head=head,
                                      head_commit=drift.resolve_commit(head, folder))
            unplanned = list(report.get("unplanned") or [])
            return DriftResult(
                clear=bool(report.get("clear")), revision=report.get("revision"), base=since,
                head=head, changed=list(report.get("changed") or []), unplanned=unplanned,
                untouched=list(report.get("untouched") or []),
                matches=dict(report.get("matches") or {}), url=report.get("url", ""),
                message="No unplanned change." if not unplanned else
                        f"{len(unplanned)} changed file(s) no step of the approved plan lists: "
                        + ", ".join(unplanned))

        return call(operation)

    @server.tool()
    def finish_implementation(plan_id: PlanIdArg) -> PlanInfo:
        """Say the implementation of the approved plan is done (IMPLEMENTED): a reviewer then
        verifies it against the success criteria. Run check_drift first."""
        return call(lambda api, config: _info(api.finish_implementation(plan_id)))

    return server


def run(poll_interval: float = DEFAULT_POLL_INTERVAL,
        settings: Callable[[], Settings] = Settings.resolve) -> int:
    """Serve over stdio until the client closes the connection."""
    build_server(settings=settings, poll_interval=poll_interval).run("stdio")
    return 0
