"""Where review stalls and who is overloaded: the figures of the insights page, from the record.

Sources: a submission is a PlanRevision (one per submission, created_at); a reviewer's
decision is a Review (decided_at); a plan's outcome is its audit entry (plan.approved,
plan.needs_revision, plan.rejected, whose payload names the revision). A fixed number of queries
whatever the period or the data. Weekly figures are placed in the week of the submission
(times) or of the decision (counts). Admins see everyone's figures; a reviewer sees their own
(`reviewer=`): their time to review, their decisions, the plans they approved, their load.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from audit.models import AuditEntry
from plans.models import PlanRevision
from reviews.events import OUTCOME_EVENTS
from reviews.models import Decision, Review

from . import figures
from .queues import load_queues

OUTCOMES = {event.name: status for status, event in OUTCOME_EVENTS.items()}
DECISIONS = [value for value, _ in Decision.choices]
DECISION_LABELS = dict(Decision.choices)


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


@dataclass
class Insights:
    date_from: date
    date_to: date
    weeks: list[date]
    first_review: list[figures.Durations]
    decision: list[figures.Durations]
    outcomes: list[tuple[date, dict[str, int]]]
    revisions: figures.RevisionCounts
    reviewers: list[figures.ReviewerLoad]
    reviewer: str = ""  # whose own figures these are; "" = everyone's


def load(*, date_from: date, date_to: date, reviewer=None) -> Insights:
    """The figures for submissions and decisions from `date_from` to `date_to` (inclusive)."""
    start, end = _start(date_from), _start(date_to + timedelta(days=1))
    all_weeks = figures.weeks(date_from, date_to)
    submitted = PlanRevision.objects.filter(created_at__gte=start, created_at__lt=end)
    revisions = {r["pk"]: r for r in submitted.values("pk", "plan_id", "number", "created_at")}
    reviews = Review.objects.exclude(decision="").filter(decided_at__isnull=False)
    if reviewer is not None:
        reviews = reviews.filter(reviewer=reviewer)
    decided = list(reviews.filter(revision__in=submitted)
                   .values("revision_id", "plan_id", "decided_at", "decision",
                           "reviewer__username"))
    in_period = list(reviews.filter(decided_at__gte=start, decided_at__lt=end)
                     .values("decided_at", "decision", "reviewer__username",
                             "revision__created_at", "revision__number", "plan_id"))
    outcomes = list(AuditEntry.objects.filter(action__in=list(OUTCOMES), created_at__gte=start,
                                              created_at__lt=end)
                    .values("action", "plan_id", "created_at", "payload"))
    # The submission an outcome closes: (plan, revision number) -> revision row.
    by_number = {(r["plan_id"], r["number"]): r for r in revisions.values()}
    outcome_entries = list(AuditEntry.objects.filter(
        action__in=list(OUTCOMES), plan_id__in=submitted.values("plan_id"))
        .values("action", "plan_id", "created_at", "payload"))

    first = {}
    for row in decided:
        rev = revisions.get(row["revision_id"])
        if rev is None:  # submitted between the two reads
            continue
        hours = figures.hours_between(rev["created_at"], row["decided_at"])
        first[rev["pk"]] = min(hours, first.get(rev["pk"], hours))
    first_samples = [(figures.week_of(revisions[pk]["created_at"]), h) for pk, h in first.items()]

    reviewed = {(row["plan_id"], revisions[row["revision_id"]]["number"]) for row in decided
                if row["revision_id"] in revisions}
    decision_samples = []
    for entry in outcome_entries:
        key = (entry["plan_id"], entry["payload"].get("revision"))
        if key in by_number and (reviewer is None or key in reviewed):
            rev = by_number[key]
            decision_samples.append((figures.week_of(rev["created_at"]),
                                     figures.hours_between(rev["created_at"],
                                                           entry["created_at"])))

    if reviewer is None:
        outcome_samples = [(figures.week_of(e["created_at"]), OUTCOMES[e["action"]])
                           for e in outcomes]
        approved_revisions = [e["payload"].get("revision") or 1 for e in outcomes
                              if OUTCOMES[e["action"]] == Decision.APPROVED]
    else:
        outcome_samples = [(figures.week_of(r["decided_at"]), r["decision"]) for r in in_period]
        mine = {(r["plan_id"], r["revision__number"]) for r in in_period
                if r["decision"] == Decision.APPROVED}
        approved_revisions = [e["payload"].get("revision") or 1 for e in outcomes
                              if OUTCOMES[e["action"]] == Decision.APPROVED
                              and (e["plan_id"], e["payload"].get("revision")) in mine]

    queues = load_queues()
    lengths = defaultdict(int)
    for uid, n, _ in queues.lengths():
        lengths[queues.reviewer_names[uid]] = n
    load_samples = [(r["reviewer__username"],
                     figures.hours_between(r["revision__created_at"], r["decided_at"]))
                    for r in in_period]
    name = reviewer.get_username() if reviewer is not None else ""
    if name:
        lengths = {name: lengths.get(name, 0)}
    return Insights(
        date_from=date_from, date_to=date_to, weeks=all_weeks,
        first_review=figures.durations_by_week(first_samples, all_weeks),
        decision=figures.durations_by_week(decision_samples, all_weeks),
        outcomes=figures.counts_by_week(outcome_samples, all_weeks, DECISIONS),
        revisions=figures.revisions_per_approved(approved_revisions),
        reviewers=figures.reviewer_loads(load_samples, lengths),
        reviewer=name,
    )


# --- the figures as tables (the CSV downloads and the charts read the same rows) ----------------
def _hours(value) -> str:
    return "" if value is None else f"{value:.1f}"


def tables(data: Insights) -> dict[str, tuple[list[str], list[list]]]:
    """Figure slug -> (header, rows)."""
    def weekly(rows):
        return [[r.label.isoformat(), r.count, _hours(r.median), _hours(r.p90)] for r in rows]

    return {
        "time-to-first-review": (["week", "submissions", "median_hours", "p90_hours"],
                                 weekly(data.first_review)),
        "time-to-decision": (["week", "decisions", "median_hours", "p90_hours"],
                             weekly(data.decision)),
        "decisions": (["week", *[d.lower() for d in DECISIONS]],
                      [[week.isoformat(), *[counts[d] for d in DECISIONS]]
                       for week, counts in data.outcomes]),
        "revisions": (["revisions", "approved_plans"],
                      [[n, plans] for n, plans in data.revisions.histogram]),
        "reviewers": (["reviewer", "decisions", "queue", "median_hours", "p90_hours"],
                      [[r.reviewer, r.decided, r.queue, _hours(r.median), _hours(r.p90)]
                       for r in data.reviewers]),
    }


FIGURES = ("time-to-first-review", "time-to-decision", "decisions", "revisions", "reviewers")
