"""How the plans app's audit entries read on the audit pages (registered in PlansConfig.ready
into audit.actions.FORMATTERS); the stored payloads are unchanged."""

from audit.formatting import default_details, humanise_value

from . import events, schema
from .models import PlanStatus


def status_label(value) -> str:
    """A stored status ("NEEDS_REVISION") as the pages name it ("Needs revision")."""
    try:
        return PlanStatus(value).label
    except ValueError:
        return str(value or "—")


def transition(payload: dict) -> str:
    text = f"{status_label(payload['from'])} → {status_label(payload['to'])}"
    if payload.get("revision"):
        text += f", revision {payload['revision']}"
    if payload.get("previous_revision") and payload.get("content_unchanged"):
        text += f" (same content as revision {payload['previous_revision']})"
    return text


def _section_names(keys) -> str:
    labels = {section.key: section.label for section in schema.SECTIONS}
    labels["created_on"] = "Created date"
    return humanise_value([labels.get(key, key.replace("_", " ")) for key in keys])


def created(payload: dict) -> str:
    steps = payload.get("steps") or 0
    return f"“{payload.get('title') or 'Untitled'}”, {steps} step{'s' if steps != 1 else ''}"


def edited(payload: dict) -> str:
    if payload.get("source") == "markdown":
        return imported(payload)
    parts = []
    if payload.get("fields"):
        parts.append(f"changed: {_section_names(payload['fields'])}")
    if payload.get("steps") is not None:
        parts.append(f"{payload['steps']} step{'s' if payload['steps'] != 1 else ''}")
    if payload.get("success_criteria") is not None:
        count = payload["success_criteria"]
        parts.append(f"{count} success criteri{'on' if count == 1 else 'a'}")
    return "; ".join(parts) or default_details(payload)


def imported(payload: dict) -> str:
    count = payload.get("warnings") or 0
    return f"From Markdown, {count} warning{'s' if count != 1 else ''}"


def rule_changed(payload: dict) -> str:
    return f"Required sections: {_section_names(payload['from'])} → {_section_names(payload['to'])}"


FORMATTERS = {
    events.PLAN_CREATED.name: created,
    events.PLAN_EDITED.name: edited,
    events.PLAN_IMPORTED.name: imported,
    events.PLAN_SUBMITTED.name: transition,
    events.PLAN_RESUBMITTED.name: transition,
    events.PLAN_WITHDRAWN.name: transition,
    events.SUBMISSION_RULE_CHANGED.name: rule_changed,
}
