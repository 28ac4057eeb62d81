"""The audit trail as a person reads it: an entry's details in words, the client in a few, and
a review's checklist answers gathered into one row of the page.

Only the pages use this; the rows in the database and in the exports stay exactly as written,
one per change, with their raw payload and the whole user-agent string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .actions import FORMATTERS
from .actions import GROUPED as GROUPED_ACTIONS  # filled by the apps, as FORMATTERS is


def humanise_key(key: str) -> str:
    return key.replace("_", " ").strip().capitalize()


def humanise_value(value) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(humanise_value(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{humanise_key(k)}: {humanise_value(v)}"
                         for k, v in sorted(value.items()))
    return str(value)


def default_details(payload: dict) -> str:
    """Key by key, in words ("Answers copied: 15"), for an action without a formatter; keys
    in alphabetical order (PostgreSQL's jsonb does not keep the order they were written in)."""
    return "; ".join(f"{humanise_key(k)}: {humanise_value(v)}" for k, v in sorted(payload.items()))


def details(action: str, payload: dict | None) -> str:
    payload = payload or {}
    formatter = FORMATTERS.get(action, default_details)
    try:
        return formatter(payload)
    except (KeyError, TypeError, ValueError, AttributeError):
        return default_details(payload)  # an older entry's payload, shaped differently


# --- the client -------------------------------------------------------------------------------
# Order matters: Edge and Opera say "Chrome" too, Chrome says "Safari", every browser "Mozilla".
_BROWSERS = (
    ("Edge", r"Edg(?:e|A|iOS)?/(\d+)"), ("Opera", r"(?:OPR|Opera)/(\d+)"),
    ("Firefox", r"(?:Firefox|FxiOS)/(\d+)"), ("Chromium", r"Chromium/(\d+)"),
    ("Chrome", r"(?:Chrome|CriOS)/(\d+)"),
    ("Safari", r"Version/(\d+)[.\d]* (?:Mobile/\S+ )?Safari"),
    ("plangate CLI", r"plangate(?:-client)?/([\d.]+)"), ("curl", r"curl/([\d.]+)"),
    ("Python requests", r"python-requests/([\d.]+)"), ("httpx", r"python-httpx/([\d.]+)"),
)
_SYSTEMS = (
    ("Android", r"Android"), ("iOS", r"iPhone|iPad|iPod"), ("Windows", r"Windows"),
    ("ChromeOS", r"CrOS"), ("macOS", r"Mac OS X|Macintosh"), ("Linux", r"Linux|X11"),
)


def short_user_agent(user_agent: str) -> str:
    """"Firefox 128 on Linux" from a user-agent string; its first words when unrecognised."""
    text = user_agent or ""
    if not text:
        return ""
    browser = next((f"{name} {m.group(1)}" for name, pattern in _BROWSERS
                    if (m := re.search(pattern, text))), "")
    system = next((name for name, pattern in _SYSTEMS if re.search(pattern, text)), "")
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return browser or system
    return text if len(text) <= 40 else text[:39] + "…"


# --- rows of the page -------------------------------------------------------------------------
@dataclass
class Row:
    """One row of the audit page: one entry, or consecutive entries of a grouped action on the
    same object by the same actor (a review's checklist answers)."""

    entries: list = field(default_factory=list)

    @property
    def entry(self):
        return self.entries[0]

    @property
    def id_range(self) -> tuple[int, int]:
        ids = [e.pk for e in self.entries]
        return min(ids), max(ids)

    @property
    def grouped(self) -> bool:
        return len(self.entries) > 1

    @property
    def group_label(self) -> str:
        one, many = GROUPED_ACTIONS.get(self.entry.action, ("entry", "entries"))
        return f"{len(self.entries)} {one if len(self.entries) == 1 else many}"


def _group_key(entry):
    if entry.action not in GROUPED_ACTIONS:
        return None
    return (entry.action, entry.object_type, entry.object_id, entry.actor_id)


def rows(entries) -> list[Row]:
    """The entries, in their order, with runs of a grouped action gathered into one row."""
    result: list[Row] = []
    previous = None
    for entry in entries:
        key = _group_key(entry)
        if key is not None and key == previous:
            result[-1].entries.append(entry)
        else:
            result.append(Row(entries=[entry]))
        previous = key
    return result
