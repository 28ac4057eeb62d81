"""How the reviews app's audit entries read on the audit pages (registered in
ReviewsConfig.ready into audit.actions.FORMATTERS); the stored payloads are unchanged."""

from audit.formatting import humanise_value
from plans.audit_details import status_label, transition

from . import events
from .models import Answer, Decision


def _label(choices, value) -> str:
    try:
        return choices(value).label
    except ValueError:
        return str(value or "—")


def answered(payload: dict) -> str:
    text = f"{payload['item']}: {_label(Answer, payload['answer'])}"
    return f"{text} — {payload['note']}" if payload.get("note") else text


def decided(payload: dict) -> str:
    decision = {Decision.APPROVED: "Approved", Decision.REJECTED: "Rejected"}.get(
        payload["decision"], _label(Decision, payload["decision"]))
    text = f"{decision} revision {payload.get('revision') or '?'}"
    return f"{text}: “{payload['comment']}”" if payload.get("comment") else text


def started(payload: dict) -> str:
    text = f"Revision {payload['revision']}"
    copied = payload.get("answers_copied") or 0
    if copied:
        plural = "s" if copied != 1 else ""
        text += f"; {copied} answer{plural} carried over from the earlier review"
    return text


def outcome(payload: dict) -> str:
    text = transition(payload)
    if payload.get("approvals"):
        text += f"; approved by {humanise_value(payload['approvals'])}"
    policy = payload.get("policy") or {}
    if policy.get("name"):
        text += f"; policy “{policy['name']}”"
    return text


def requested(payload: dict) -> str:
    who = [*payload.get("users", []), *(f"group {g}" for g in payload.get("groups", []))]
    return f"Asked: {humanise_value(who)}"


def concern(payload: dict) -> str:
    return f"“{payload['title']}”"


def reminded(payload: dict) -> str:
    return f"Revision {payload['revision']}, waiting {payload['waited_hours']} hours"


FORMATTERS = {
    events.REVIEW_ANSWERED.name: answered,
    events.REVIEW_DECIDED.name: decided,
    events.REVIEW_STARTED.name: started,
    events.REVIEW_REQUESTED.name: requested,
    events.CONCERN_RAISED.name: concern,
    events.CONCERN_RESOLVED.name: concern,
    events.PLAN_REMINDER.name: reminded,
    events.PLAN_ESCALATED.name: reminded,
    **{event.name: outcome for event in events.OUTCOME_EVENTS.values()},
}

#: Shown as one row per review on the audit page (the entries stay one per answer).
GROUPED = {events.REVIEW_ANSWERED.name: ("checklist answer", "checklist answers")}

__all__ = ["FORMATTERS", "GROUPED", "status_label"]
