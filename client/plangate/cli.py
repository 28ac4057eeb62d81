"""The `plangate` command: submit a plan for human review, wait for the decision, verify it;
after approval, report progress and check the branch for drift from the approved plan.

Exit codes (also in README "Gate an AI coding agent on human approval"):
  0 approved (drift: no unplanned change) · 1 any other error (one line on stderr) · 2 bad
  usage · 3 needs revision · 4 rejected · 5 timed out waiting; 6 not cleared: `verify` pending
  review, `drift` a changed file no step planned; 7 changed since approval (`submit --wait`:
  other text than the file's was approved); `verify` also: 8 unknown to the server · 9 a draft,
  never submitted. `hook` answers 0 (allow) or 2 (block), 2 on any failure.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from plangate import __version__, drift, gate, hook
from plangate.api import ApiError, PlangateAPI, Settings, UsageError
from plangate.memory import PlanMemory

EPILOG = """\
environment: PLANGATE_URL (the server, e.g. https://plangate.example.com), PLANGATE_TOKEN (a
personal API token), PLANGATE_POLL_INTERVAL (seconds between polls, default 2),
PLANGATE_PLAN_FILE (the plan file `hook` checks).
exit codes: 0 approved (drift: no unplanned change), 1 error, 2 bad usage, 3 needs revision,
4 rejected, 5 timed out; 6 not cleared (verify: pending review; drift: unplanned changes);
7 changed (submit --wait: other text was approved); verify also 8 unknown, 9 draft."""


class Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as our exit code 2 without killing the caller."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        raise UsageError(message)


def _positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {value}")
    return number


def _positive_int(what: str):
    """An argument type for a 1-based number; its error names what the number is."""

    def parse(value: str) -> int:
        if not value.isdigit() or int(value) < 1:
            raise argparse.ArgumentTypeError(f"not {what}: {value!r}")
        return int(value)

    return parse


_plan_id = _positive_int("a plan id")
_step_number = _positive_int("a step number")
_action_number = _positive_int("an action number")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", help="the Plangate server (default: $PLANGATE_URL)")
    common.add_argument("--token", help="personal API token (default: $PLANGATE_TOKEN)")
    common.add_argument("--poll-interval", type=_positive_float, metavar="SECONDS",
                        help="seconds between polls while waiting "
                             "(default: $PLANGATE_POLL_INTERVAL or 2)")

    parser = Parser(prog="plangate", epilog=EPILOG,
                    formatter_class=argparse.RawDescriptionHelpFormatter,
                    description="Gate an AI coding agent on a human's approval of its exact plan.")
    parser.add_argument("--version", action="version", version=f"plangate {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                     parser_class=Parser)

    p = commands.add_parser("submit", parents=[common], help="submit a plan file for review")
    p.add_argument("file", metavar="FILE", help="the plan's Markdown file")
    p.add_argument("--wait", action="store_true", help="wait for the decision and print it")
    p.add_argument("--timeout", type=_positive_float, metavar="SECONDS",
                   help="with --wait: give up after SECONDS (exit 5); default: no limit")
    p.add_argument("--plan", type=_plan_id, metavar="ID",
                   help="revise this plan (default: the plan FILE was last submitted as)")
    p.add_argument("--new", action="store_true",
                   help="create a new plan even if FILE was submitted before")

    for name, text in (("status", "a plan's review status"),
                       ("export", "a plan's Markdown, on stdout"),
                       ("feedback", "the reviewers' feedback as Markdown")):
        p = commands.add_parser(name, parents=[common], help=text)
        p.add_argument("plan", metavar="ID", help="the plan's id, or a plan file submitted before")
        if name == "status":
            p.add_argument("--json", action="store_true", help="print the plan's JSON")

    p = commands.add_parser("verify", parents=[common],
                            help="exit 0 only if exactly this text is approved")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--plan", type=_plan_id, metavar="ID",
                   help="the plan the text belongs to (default: remembered for FILE)")

    p = commands.add_parser("hook", parents=[common],
                            help="Claude Code PreToolUse hook: block file edits until approved")
    p.add_argument("--plan-file", help="the plan file to check (default: $PLANGATE_PLAN_FILE)")
    p.add_argument("--gate", action="append", default=[], metavar="TOOL",
                   help="also block this tool (e.g. Bash) until approved; repeatable")

    for name, text in (("start", "start implementing an approved plan"),
                       ("finish", "say the implementation is done (a reviewer verifies it)")):
        p = commands.add_parser(name, parents=[common], help=text)
        p.add_argument("plan", metavar="ID", help="the plan's id, or a plan file submitted before")

    p = commands.add_parser("progress", parents=[common],
                            help="mark a step (or one of its actions) of an approved plan done")
    p.add_argument("plan", metavar="ID", help="the plan's id, or a plan file submitted before")
    p.add_argument("step", type=_step_number, metavar="STEP", help="the step's number (1-based)")
    p.add_argument("--action", type=_action_number, metavar="N",
                   help="only action N of the step (1-based); default: the whole step")
    p.add_argument("--note", default="", help="what was done, in a line")
    p.add_argument("--commit", default="", metavar="SHA",
                   help="the commit that did it (a SHA, or a ref such as HEAD)")

    p = commands.add_parser("drift", parents=[common],
                            help="exit 6 if the branch changed files the approved plan does not "
                                 "list")
    p.add_argument("plan", metavar="ID", help="the plan's id, or a plan file submitted before "
                                              "(its own changes are then left out)")
    p.add_argument("--base", metavar="REF",
                   help="compare from the merge base with REF (default: main or master)")
    p.add_argument("--head", default="HEAD", metavar="REF", help="up to REF (default: HEAD)")
    p.add_argument("--json", action="store_true", help="print the report's JSON")

    commands.add_parser("mcp", parents=[common], help="serve the gate as MCP tools over stdio")
    return parser


def read_plan_text(path: str) -> str:
    """A plan file's exact text; an empty or blank file is bad usage (exit 2), refused here
    before any request (the server would only answer 400 for it)."""
    text = gate.read_plan_file(path)
    if not text.strip():
        raise UsageError(f"{path} is empty")
    return text


class Command:
    """One invocation: its arguments, where its output goes and how it reaches the server."""

    def __init__(self, args, *, transport, sleep, clock, stdin, stdout, stderr):
        self.args = args
        self.transport = transport
        self.sleep = sleep
        self.clock = clock
        self.stdin = stdin
        self.out = stdout
        self.err = stderr

    def settings(self) -> Settings:
        return Settings.resolve(self.args.url, self.args.token)

    def api(self, settings: Settings | None = None) -> PlangateAPI:
        return PlangateAPI(settings or self.settings(), transport=self.transport,
                           sleep=self.sleep)

    def poll_interval(self) -> float:
        if self.args.poll_interval is not None:
            return self.args.poll_interval
        raw = os.environ.get("PLANGATE_POLL_INTERVAL", "")
        try:
            return _positive_float(raw) if raw else gate.DEFAULT_POLL_INTERVAL
        except argparse.ArgumentTypeError:
            raise UsageError(f"PLANGATE_POLL_INTERVAL={raw!r} is not a number of seconds") from None

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)  # an agent reading a pipe sees the URL at once

    def note(self, text: str) -> None:
        print(f"plangate: {text}", file=self.err)

    def plan_ref(self, settings: Settings) -> int:
        """An ID argument: a number, or a plan file whose plan id is remembered."""
        ref = self.args.plan
        if ref.isdigit():
            return int(ref)
        if not Path(ref).is_file():
            raise UsageError(f"{ref}: neither a plan id nor a plan file")
        plan_id = PlanMemory(Path(ref), settings.url).recall()
        if plan_id is None:
            raise UsageError(f"{ref} was never submitted to {settings.url}; pass the plan id")
        return plan_id

    def drift_plan(self, settings: Settings, api: PlangateAPI) -> int:
        """The plan `drift` checks: as plan_ref, and for a plan file this machine never
        submitted (a CI checkout), the plan whose submitted text is exactly the file's."""
        ref = self.args.plan
        if ref.isdigit() or not Path(ref).is_file():
            return self.plan_ref(settings)
        remembered = PlanMemory(Path(ref), settings.url).recall()
        if remembered is not None:
            return remembered
        found = api.verify(read_plan_text(ref)).get("plan")
        if not found:
            raise UsageError(f"{ref} is not the text of any plan on {settings.url}; pass the "
                             "plan id")
        return int(found)

    # Commands -----------------------------------------------------------------------------

    def submit(self) -> int:
        args = self.args
        if args.timeout is not None and not args.wait:
            raise UsageError("--timeout only makes sense with --wait")
        if args.new and args.plan is not None:
            raise UsageError("--new and --plan exclude each other")
        text = read_plan_text(args.file)
        settings = self.settings()
        memory = PlanMemory(Path(args.file), settings.url)
        interval = self.poll_interval()
        with self.api(settings) as api:
            done = gate.submit(api, text, plan_id=args.plan, memory=memory, new=args.new)
            plan = done.plan
            if done.note:
                self.note(done.note)
            verb = {"created": "submitted for review", "revised": "revised and resubmitted",
                    "resubmitted": "submitted for review",
                    "unchanged": f"unchanged, {plan['status']}",
                    "amended": "amendment submitted for review"}[done.action]
            self.say(f"Plan {plan['id']} {verb}: {plan['url']}")
            if not args.wait:
                return 0
            if done.action != "unchanged" or plan["status"] == "PENDING_REVIEW":
                limit = "" if args.timeout is None else f" (at most {args.timeout:g} s)"
                self.note(f"waiting for the reviewers' decision{limit}...")
            wait = gate.DecisionWait(api, plan["id"], timeout=args.timeout, interval=interval,
                                     clock=self.clock,
                                     sha256=(plan.get("revision") or {}).get("sha256") or "")
            decided = wait.run(self.sleep)
            if decided is None:
                self.note(f"timed out after {args.timeout:g} s; plan {plan['id']} is still under "
                          f"review: {plan['url']} (run the same command again to keep waiting)")
                return gate.EXIT_TIMEOUT
            self.out.write(gate.decision_text(decided, api.feedback(plan["id"])))
            if wait.approved_other_text(decided):
                self.note(f"plan {plan['id']} was approved with other text (sha256 "
                          f"{decided.get('approved_sha256')}), not {args.file} as submitted "
                          f"(sha256 {wait.sha256}): the plan was changed and resubmitted while "
                          f"waiting; this text is not approved")
            return wait.exit_code(decided)

    def status(self) -> int:
        settings = self.settings()
        with self.api(settings) as api:
            plan = api.get_plan(self.plan_ref(settings))
        if self.args.json:
            self.say(json.dumps(plan, indent=2))
            return 0
        revision = plan.get("revision") or {}
        self.say(f"Plan {plan['id']}: {plan.get('title', '')}")
        self.say(f"Status: {plan['status']}")
        if revision:
            self.say(f"Revision: {revision.get('number')} (sha256 {revision.get('sha256')})")
        self.say(f"Approved sha256: {plan.get('approved_sha256') or 'none'}")
        amendment = plan.get("amendment")
        if isinstance(amendment, dict):  # a server before amendments were reported: none
            decided = {"pending": "under review", "needs_revision": "sent back for revision",
                       "draft": "withdrawn to a draft"}
            self.say(f"Amendment: revision {amendment.get('revision')} (sha256 "
                     f"{amendment.get('sha256')}) "
                     f"{decided.get(amendment.get('state'), amendment.get('state'))}; "
                     "the approved sha256 above stays approved until it is approved")
        self.say(f"URL: {plan.get('url', '')}")
        return 0

    def export(self) -> int:
        settings = self.settings()
        with self.api(settings) as api:
            self.out.write(api.export_markdown(self.plan_ref(settings)))
        return 0

    def feedback(self) -> int:
        settings = self.settings()
        with self.api(settings) as api:
            body = api.feedback(self.plan_ref(settings)).get("markdown") or ""
        self.out.write(body if body.endswith("\n") or not body else body + "\n")
        return 0

    def verify(self) -> int:
        text = read_plan_text(self.args.file)
        settings = self.settings()
        plan_id = self.args.plan
        if plan_id is None:
            plan_id = PlanMemory(Path(self.args.file), settings.url).recall()
        with self.api(settings) as api:
            code, answer = gate.verify(api, text, plan_id=plan_id)
        if code == 0:
            by = ", ".join(answer.get("approved_by") or []) or "the reviewers"
            self.say(f"approved: {self.args.file} is plan {answer.get('plan')} revision "
                     f"{answer.get('revision')}, approved by {by} at {answer.get('approved_at')}")
        else:
            reason = answer.get("reason") or "not approved"
            self.note(f"{self.args.file} is not approved ({answer.get('state')}): {reason}")
        return code

    def hook(self) -> int:
        plan_file = self.args.plan_file or os.environ.get("PLANGATE_PLAN_FILE") or None
        try:
            code, reason = hook.decide(
                self.stdin.read(), plan_file=plan_file, settings=self.settings,
                api_factory=self.api, gated=hook.EDIT_TOOLS | frozenset(self.args.gate))
        except (Exception, KeyboardInterrupt) as exc:  # fail closed: only 2 blocks the call
            code, reason = hook.BLOCK, (f"Plangate hook: unexpected error ({type(exc).__name__}: "
                                        f"{exc}); blocking to be safe.")
        if reason:
            print(reason, file=self.err)
        return code

    def start(self) -> int:
        settings = self.settings()
        with self.api(settings) as api:
            plan = api.start_implementation(self.plan_ref(settings))
        self.say(f"Plan {plan['id']} {plan['status']}: {plan['url']}")
        return 0

    def finish(self) -> int:
        settings = self.settings()
        with self.api(settings) as api:
            plan = api.finish_implementation(self.plan_ref(settings))
        self.say(f"Plan {plan['id']} {plan['status']}: a reviewer can verify it at "
                 f"{plan['url']}")
        return 0

    def progress(self) -> int:
        args = self.args
        commit = drift.commit_of(args.commit) if args.commit else ""
        settings = self.settings()
        with self.api(settings) as api:
            plan_id = self.plan_ref(settings)
            report = api.report_progress(plan_id, args.step, action=args.action,
                                         note=args.note, commit=commit)
        what = f"action {report['action']}" if report.get("action") else "done"
        self.say(f"Plan {plan_id} step {report['step']} ({report['step_title']}): {what}"
                 + (f" at {report['commit'][:12]}" if report.get("commit") else ""))
        return 0

    def drift(self) -> int:
        args = self.args
        base = args.base or drift.default_base()
        files = drift.changed_files(base, args.head)
        if not args.plan.isdigit() and Path(args.plan).is_file():  # the plan file itself
            files = [path for path in files if path != drift.repo_path(args.plan)]
        head_commit = drift.resolve_commit(args.head)
        settings = self.settings()
        with self.api(settings) as api:
            plan_id = self.drift_plan(settings, api)
            report = api.upload_drift(plan_id, files, base=base, head=args.head,
                                      head_commit=head_commit)
        if args.json:
            self.say(json.dumps(report, indent=2))
        else:
            self.out.write(drift_text(plan_id, report))
        return gate.EXIT_OK if report.get("clear") else gate.EXIT_DRIFT

    def mcp(self) -> int:
        # Not a cycle: the MCP SDK takes a while to import, and the hook, which runs before
        # every tool call of the agent, must not pay for it.
        from plangate import mcp_server

        return mcp_server.run(poll_interval=self.poll_interval(), settings=self.settings)


def drift_text(plan_id: int, report: dict) -> str:
    """The drift report as `plangate drift` prints it: the verdict, then the files."""
    changed, unplanned = report.get("changed") or [], report.get("unplanned") or []
    lines = [f"Plan {plan_id}, approved revision {report.get('revision')}: "
             f"{report.get('base')}...{report.get('head')}, {len(changed)} changed file"
             f"{'' if len(changed) == 1 else 's'}, "
             + (f"{len(unplanned)} unplanned" if unplanned else "no unplanned change")]
    if unplanned:
        lines += ["unplanned (no step of the approved plan lists them):",
                  *(f"  {path}" for path in unplanned)]
    if report.get("untouched"):
        lines += ["planned but untouched:", *(f"  {path}" for path in report["untouched"])]
    matches = report.get("matches") or {}
    if matches:
        lines += ["planned:", *(f"  {path}  (step {', '.join(map(str, steps))})"
                                for path, steps in sorted(matches.items()))]
    if unplanned:
        lines.append("Plan the change: amend the plan (edit it and `plangate submit` it again) "
                     "or drop the change.")
    lines.append(f"Report: {report.get('url', '')}")
    return "\n".join(lines) + "\n"


def run(argv: list[str] | None = None, *, transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
        stdin=None, stdout=None, stderr=None) -> int:
    """Run one command and return its exit code (tests call this with a fake transport)."""
    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    args = None
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as exit_:  # --help, --version
            return int(exit_.code or 0)
        command = Command(args, transport=transport, sleep=sleep, clock=clock, stdin=stdin,
                          stdout=stdout, stderr=stderr)
        return getattr(command, args.command)()
    except UsageError as exc:
        print(f"plangate: {exc}", file=stderr)
        return gate.EXIT_USAGE
    except ApiError as exc:
        print(f"plangate: {exc}", file=stderr)
        # Markdown errors read like a compiler's, `FILE:LINE: message`, so editors can jump.
        where = getattr(args, "file", None) or "line"
        for line in exc.lines:
            print(f"{where}:{line.get('line')}: {line.get('message')}", file=stderr)
        return gate.EXIT_ERROR
    except KeyboardInterrupt:
        print("plangate: interrupted", file=stderr)
        return 130


#: The exit code of a command whose reader went away (`plangate status 1 | head -1`): the
#: shell's for a process ended by SIGPIPE. Never 0: the answer was not all read (fail closed).
EXIT_BROKEN_PIPE = 141


def main(argv: list[str] | None = None) -> int:
    """The console script's entry point."""
    try:
        return run(argv)
    except BrokenPipeError:
        # Quietly, as a command ended by SIGPIPE: no traceback, and none either when Python
        # flushes the closed stdout on the way out (so it is pointed at /dev/null).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
