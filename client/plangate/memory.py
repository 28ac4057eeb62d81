"""Which plan a file was submitted as, remembered beside the file.

`plangate submit docs/plan.md` records the plan's id in `docs/.plangate/plans.json`, so the next
submit of the same file revises that plan instead of creating another one, and `verify` tells the
server which plan the text belongs to (so it can answer "changed since approval" rather than
"unknown"). The memory lives beside the file, not in the current directory, so it does not depend
on where the command runs; committing it lets a CI job give the same answers.

The file maps the server's URL to {file name: plan id}:
    {"https://plangate.example.com": {"plan.md": 7}}
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from plangate.api import UsageError

DIRECTORY = ".plangate"
FILENAME = "plans.json"


def memory_path(plan_file: Path) -> Path:
    """The memory file for a plan file: `.plangate/plans.json` in the plan file's folder."""
    return Path(os.path.abspath(plan_file)).parent / DIRECTORY / FILENAME


class PlanMemory:
    """The remembered plan ids of the files in one folder, for one server."""

    def __init__(self, plan_file: Path, server: str):
        self.plan_file = Path(plan_file)
        self.path = memory_path(self.plan_file)
        self.server = server
        self.key = self.plan_file.name

    def _load(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot read {self.path} ({exc}); fix or delete it") from None
        if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
            raise UsageError(f"{self.path} is not a plangate memory file; fix or delete it")
        return data

    def recall(self) -> int | None:
        """The plan this file was last submitted as on this server, if any."""
        value = self._load().get(self.server, {}).get(self.key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def remember(self, plan_id: int) -> None:
        self._save(plan_id)

    def forget(self) -> None:
        self._save(None)

    def _save(self, plan_id: int | None) -> None:
        data = self._load()
        plans = data.setdefault(self.server, {})
        if plan_id is None:
            plans.pop(self.key, None)
        else:
            plans[self.key] = plan_id
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Write a sibling file and rename it over the old one: never a half-written memory.
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".plans-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=2, sort_keys=True)
                handle.write("\n")
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
