"""The drift check's git side: which files a branch changed, read with `git` in the current
repository. The server compares them with the approved plan's files (it holds the plan); the
client only reports what git says.

- `changed_files(base, head)`: `git diff --name-only base...head` (the three dots diff `head`
  against its merge base with `base`, so commits on the main branch since the branch started
  are not counted as the branch's changes).
- `default_base()`: the main branch (`main`, `master`, or their `origin/` copies), whichever
  exists first.
- `resolve_commit(ref)`: the full SHA of a ref (`HEAD`, a branch, a short SHA).

The plan file itself changes when the plan is amended; when the plan is named by its file
(`plangate drift docs/plan.md`) that file is left out of the check. Files in any `.plangate/`
folder (where the client remembers plan ids) are always left out, whether committed or not.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from plangate.api import UsageError

MAIN_BRANCHES = ("main", "master", "origin/main", "origin/master")
HEX = re.compile(r"^[0-9a-fA-F]{7,40}$")
GIT_TIMEOUT = 60


class GitError(UsageError):
    """git is missing, this is not a repository, or a ref does not exist (exit code 2)."""


def git(*args: str, cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,  # noqa: S603,S607
                              timeout=GIT_TIMEOUT, check=False)
    except FileNotFoundError:
        raise GitError("git is not installed (the drift check reads changes with git)") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {' '.join(args)} took longer than {GIT_TIMEOUT} s") from None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["failed"])[-1]
        raise GitError(f"git {' '.join(args)}: {reason}")
    return done.stdout


def ref_exists(ref: str, cwd: Path | None = None) -> bool:
    try:
        git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", cwd=cwd)
    except GitError:
        return False
    return True


def toplevel(cwd: Path | None = None) -> Path:
    """The repository's top folder (GitError outside a repository)."""
    return Path(git("rev-parse", "--show-toplevel", cwd=cwd).strip())


def default_base(cwd: Path | None = None) -> str:
    toplevel(cwd)
    for ref in MAIN_BRANCHES:
        if ref_exists(ref, cwd):
            return ref
    raise GitError("no main branch found (main, master, origin/main, origin/master): "
                   "pass --base REF")


def resolve_commit(ref: str, cwd: Path | None = None) -> str:
    return git("rev-parse", "--verify", f"{ref}^{{commit}}", cwd=cwd).strip()


def changed_files(base: str, head: str, cwd: Path | None = None) -> list[str]:
    """Repository-relative paths changed on `head` since it left `base` (renames as the new
    path, deletions included: a deleted file is a change too)."""
    toplevel(cwd)
    for ref in (base, head):
        if not ref_exists(ref, cwd):
            raise GitError(f"no such commit or branch: {ref}")
    out = git("-c", "core.quotepath=off", "diff", "--name-only", "-z", f"{base}...{head}",
              cwd=cwd)
    return sorted({path for path in out.split("\0") if path and not is_client_state(path)})


def is_client_state(path: str) -> bool:
    """A file in a `.plangate/` folder (the client's memory of submitted plans): committed or
    not, it is never a change of the work."""
    return ".plangate" in path.split("/")[:-1]


def repo_path(file: str | Path, cwd: Path | None = None) -> str:
    """A file's path relative to the repository's top folder, as git diff names it."""
    top = toplevel(cwd)
    here = Path(cwd or Path.cwd())
    try:
        return (here / file).resolve().relative_to(top.resolve()).as_posix()
    except ValueError:
        return Path(file).as_posix()


def commit_of(value: str, cwd: Path | None = None) -> str:
    """A --commit value as a SHA: hex is taken as is, anything else (HEAD, a branch) is
    resolved with git."""
    value = value.strip()
    if HEX.match(value):
        return value
    return resolve_commit(value, cwd)
