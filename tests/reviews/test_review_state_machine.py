"""Random sequences of review actions by random users agree with a model of the review rules.

The machine keeps its own model of a plan's review (`ReviewModel`), written from the rules in
reviews/policy.py's docstring and from what each service does; it never asks reviews.policy, so a
bug in the policy code shows up as the real plan disagreeing with the model:

- who may review: the Reviewers group, never the author, never a plan editor; an approval counts
  only while its reviewer is active and still a Reviewer;
- how many: the policy's minimum and required groups, raised (never lowered) by High risk;
- which decisions count: those on the current revision, plus approvals of an earlier revision
  with the same content by reviewers who have not decided on this one (others are stale);
- the outcome: REJECTED, else NEEDS_REVISION, else APPROVED when satisfied with no open concern.

From the actions the machine performs the model knows who may act, so every service call must
succeed exactly when the model says it may. After every step the database must match the model:
the plan's status, its revisions (same content, same hash; different content, different hash),
every review with its decision and answers, the concerns and the plan's editors; every status
change has exactly one audit entry, with the model's from/to and approvals; no one decided on
their own plan; a decision never changes.

The model applies the outcome where the services do: after a decision and after a resolved
concern (`ReviewModel.settle`), not when an admin changes an account, nor on submission.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from audit.models import AuditEntry
from core.errors import Conflict, NotAllowed, ValidationError, message_of
from plans import events as plan_events
from plans.models import PlanEditor, PlanRevision, PlanStatus
from plans.services import plan_submit, plan_update, plan_withdraw
from reviews import services
from reviews.events import OUTCOME_EVENTS, TRANSITION_EVENTS
from reviews.models import ChecklistAnswer, ChecklistItem, Concern, Review, ReviewPolicy
from tests.factories import UserFactory, ready_plan

pytestmark = pytest.mark.django_db

REFUSED = (Conflict, NotAllowed, ValidationError)
APPROVED, NEEDS_REVISION, REJECTED = "APPROVED", "NEEDS_REVISION", "REJECTED"
DRAFT, PENDING = PlanStatus.DRAFT, PlanStatus.PENDING_REVIEW
EDITABLE = (PlanStatus.DRAFT, PlanStatus.NEEDS_REVISION)
FINAL = (PlanStatus.APPROVED, PlanStatus.REJECTED)
REVIEWERS, ADMINS, SECURITY = "Reviewers", "Admins", "Security"

AUTHOR = "alice"
PEOPLE = {
    "alice": ("Authors", REVIEWERS),  # the author, a reviewer too: never reviews her own plan
    "rob": (REVIEWERS,),
    "rita": (REVIEWERS, SECURITY),
    "ray": (REVIEWERS,),
    "eve": (ADMINS, REVIEWERS, SECURITY),  # may edit the plan, and is then a co-author
    "ada": (ADMINS,),
    "mallory": ("Authors",),
}
CHANGEABLE = ("rob", "ray", "rita", "eve")  # reviewers whose account an admin changes mid-review
TEXTS = ("Logins are slow under load.", "Logins take four seconds at peak.")
RISKS = ("high", "low")
ITEMS = 3  # the default checklist, cut short so that runs get further in the same time

#: Paths the random runs went through (the test checks that they reach the interesting ones).
reached: Counter[str] = Counter()


# --- the model ------------------------------------------------------------------------------------
@dataclass
class ModelReview:
    reviewer: str
    revision: int
    pk: int
    answers: dict[int, str] = field(default_factory=dict)  # item index -> yes / no / na
    decision: str = ""


@dataclass
class ModelConcern:
    raiser: str
    pk: int
    open: bool = True


@dataclass
class Transition:
    action: str
    source: str
    target: str
    approvals: list[str] | None = None  # an outcome records who counted


class ReviewModel:
    """One plan's review, as the rules describe it."""

    def __init__(self, policy: dict, groups: dict | None = None, active: dict | None = None):
        self.policy = policy  # min_approvals, high_risk_min_approvals, [high_risk_]required_groups
        self.groups = groups or {who: set(names) for who, names in PEOPLE.items()}
        self.active = active or dict.fromkeys(PEOPLE, True)
        self.status = DRAFT
        self.content: tuple[str, str] | None = None  # (problem statement, risk of the one step)
        self.revisions: list[tuple[str, str]] = []  # revision n's content is revisions[n - 1]
        self.reviews: list[ModelReview] = []
        self.concerns: list[ModelConcern] = []
        self.editors: set[str] = set()
        self.transitions: list[Transition] = []

    # who may do what
    def is_admin(self, who) -> bool:
        return ADMINS in self.groups[who]

    def is_reviewer(self, who) -> bool:
        return self.active[who] and REVIEWERS in self.groups[who]

    def may_review(self, who) -> bool:
        return self.is_reviewer(who) and who != AUTHOR and who not in self.editors

    def may_edit(self, who) -> bool:  # edit or submit: the author or an admin, while editable
        return self.status in EDITABLE and (who == AUTHOR or self.is_admin(who))

    def may_withdraw(self, who) -> bool:
        return self.status == PENDING and (who == AUTHOR or self.is_admin(who))

    def may_start(self, who) -> bool:
        return self.status == PENDING and self.may_review(who)

    def may_answer(self, who, review: ModelReview) -> bool:
        """Only on one's own undecided review of the current revision, while under review."""
        return (who == review.reviewer and not review.decision and self.status == PENDING
                and review.revision == self.current)

    def may_decide(self, who, review: ModelReview, decision: str, comment: str) -> bool:
        if not (self.may_answer(who, review) and self.may_review(who)):
            return False
        if decision == APPROVED:  # every item answered, none "no"
            return len(review.answers) == ITEMS and "no" not in review.answers.values()
        return bool(comment)  # sending back or rejecting says why

    def may_raise(self, who) -> bool:
        return self.status not in FINAL and (self.is_admin(who) or self.may_review(who))

    def may_resolve(self, who, concern: ModelConcern) -> bool:
        """The raiser, or an admin who neither wrote nor edited the plan."""
        return concern.open and (who == concern.raiser or (
            self.is_admin(who) and who != AUTHOR and who not in self.editors))

    # what counts
    @property
    def current(self) -> int:
        return len(self.revisions)

    def current_decisions(self) -> dict[str, str]:
        return {r.reviewer: r.decision for r in self.reviews
                if r.revision == self.current and r.decision}

    def requirements(self) -> tuple[int, set[str]]:
        minimum = self.policy["min_approvals"]
        groups = set(self.policy["required_groups"])
        if self.revisions[-1][1] == "high":
            minimum = max(minimum, self.policy["high_risk_min_approvals"])
            groups |= set(self.policy["high_risk_required_groups"])
        return max(minimum, 1), groups

    def counted_approvers(self) -> list[str]:
        content, decided = self.revisions[-1], self.current_decisions()
        approvers = {who for who, decision in decided.items() if decision == APPROVED}
        for r in self.reviews:
            if r.revision == self.current or r.decision != APPROVED:
                continue
            if self.revisions[r.revision - 1] != content:
                reached["stale approval"] += 1
            elif r.reviewer in decided:
                reached["kept approval, superseded by a new decision"] += 1
            else:
                approvers.add(r.reviewer)
                reached["kept approval"] += 1
        counted = {who for who in approvers
                   if who != AUTHOR and who not in self.editors and self.is_reviewer(who)}
        if approvers - counted:
            reached["approval that no longer counts"] += 1
        return sorted(counted)

    def outcome(self) -> str:
        decided = set(self.current_decisions().values())
        if REJECTED in decided:
            return PlanStatus.REJECTED
        if NEEDS_REVISION in decided:
            return PlanStatus.NEEDS_REVISION
        minimum, groups = self.requirements()
        approvers = self.counted_approvers()
        satisfied = len(approvers) >= minimum and all(
            any(group in self.groups[who] for who in approvers) for group in groups)
        if satisfied and not any(c.open for c in self.concerns):
            return PlanStatus.APPROVED
        return PENDING

    # what actions do
    def move(self, action: str, target: str, approvals: list[str] | None = None) -> None:
        self.transitions.append(Transition(action, self.status, target, approvals))
        self.status = target
        reached[target] += 1

    def settle(self) -> None:
        """After a decision or a resolved concern, a plan under review moves to the outcome."""
        if self.status != PENDING:
            return
        target = self.outcome()
        if target != PENDING:
            if target == PlanStatus.APPROVED and self.requirements() != (1, set()):
                reached["APPROVED under a stricter policy"] += 1
            self.move(OUTCOME_EVENTS[target].name, target, self.counted_approvers())

    def submitted(self) -> None:
        self.revisions.append(self.content)
        event = plan_events.PLAN_SUBMITTED if self.current == 1 else plan_events.PLAN_RESUBMITTED
        self.move(event.name, PENDING)

    def review_of(self, who) -> ModelReview | None:
        return next((r for r in self.reviews
                     if r.reviewer == who and r.revision == self.current), None)

    def started(self, who, pk: int) -> ModelReview:
        """A new review starts from the reviewer's latest earlier answers (not the decision)."""
        earlier = [r for r in self.reviews if r.reviewer == who]
        answers = dict(max(earlier, key=lambda r: r.revision).answers) if earlier else {}
        review = ModelReview(who, self.current, pk, answers)
        self.reviews.append(review)
        return review


# --- the machine ----------------------------------------------------------------------------------
class ReviewMachine(RuleBasedStateMachine):
    """One rule, `act`, picks what happens next from what makes sense in the plan's state (plus
    attempts out of turn), so runs get far; a rule per action would be switched off at random
    by Hypothesis' swarm testing, and most runs would then never reach an outcome."""

    changed: set[str] = set()  # accounts a run changed, restored when the next run starts

    def __init__(self):
        super().__init__()
        self.items = list(ChecklistItem.objects.filter(group__template__is_default=True)
                          .order_by("group__position", "position", "id"))
        assert len(self.items) == ITEMS
        self.item_index = {item.pk: i for i, item in enumerate(self.items)}
        self.seen_decisions: dict[int, str] = {}

    # --- setting up
    policies = st.fixed_dictionaries({
        "min_approvals": st.sampled_from([2, 1, 2]),
        "high_risk_min": st.sampled_from([2, 1, 3]),
        "security": st.sampled_from(["when high risk", "always", "no"]),
    })

    @initialize(policy=policies, text=st.sampled_from(TEXTS), risk=st.sampled_from(RISKS),
                submit=st.sampled_from([True, True, True, False]))
    def setup(self, policy=None, text=TEXTS[0], risk="low", submit=True):
        groups = {g.name: g for g in Group.objects.filter(name__in={*sum(PEOPLE.values(), ())})}
        for who in sorted(self.changed):  # undo the previous run's account changes
            get_user_model().objects.get(username=who).groups.set(
                [groups[name] for name in PEOPLE[who]])
            get_user_model().objects.filter(username=who).update(is_active=True)
        self.changed.clear()
        self.people = {u.username: u for u in get_user_model().objects.filter(username__in=PEOPLE)}
        self.model = ReviewModel({})
        self.new_plan(text, risk, submit, policy or {})

    def new_plan(self, text, risk, submit=True, policy=None):
        """A plan by the author under `policy` (min_approvals, high_risk_min, security), its
        content set through the editor service (so the model knows it), then submitted."""
        policy = self.model.policy if policy is None else self.set_policy(**policy)
        self.model = ReviewModel(policy, self.model.groups, self.model.active)  # same people
        self.plan = ready_plan(author=self.user(AUTHOR))
        self.edit(AUTHOR, text, risk)
        if submit:
            self.submit(AUTHOR)

    def set_policy(self, min_approvals=1, high_risk_min=2, security="no") -> dict:
        """Write the active policy row; return it as the model reads it."""
        required = [SECURITY] if security == "always" else []
        high_risk_required = [SECURITY] if security == "when high risk" else []
        row = ReviewPolicy.objects.order_by("-id").first()
        row.min_approvals, row.high_risk_min_approvals = min_approvals, high_risk_min
        row.save()
        row.required_groups.set(Group.objects.filter(name__in=required))
        row.high_risk_required_groups.set(Group.objects.filter(name__in=high_risk_required))
        return {"min_approvals": min_approvals, "high_risk_min_approvals": high_risk_min,
                "required_groups": required, "high_risk_required_groups": high_risk_required}

    # --- calling a service
    def user(self, who):
        return self.people[who]

    def fresh(self):
        """The plan as the actor's page loaded it (submit and withdraw refuse a stale one)."""
        self.plan.refresh_from_db()
        return self.plan

    def call(self, allowed: bool, what: str, service):
        """Run the service; it must succeed exactly when the model allows it."""
        try:
            result = service()
        except REFUSED as exc:
            assert not allowed, f"{what}: refused ({message_of(exc)}) although the rules allow it"
            return False, None
        assert allowed, f"{what}: done although the rules forbid it"
        return True, result

    # --- the actions, each checked against the model
    def edit(self, who, text, risk):
        step = self.plan.steps.get()
        steps = [{"id": step.pk, "title": step.title, "objective": step.objective,
                  "estimate": step.estimate, "risk": risk}]
        done, _ = self.call(self.model.may_edit(who), f"{who} edits", lambda: plan_update(
            actor=self.user(who), plan=self.plan, fields={"problem_statement": text}, steps=steps))
        if done:
            self.model.content = (text, risk)
            self.model.editors.add(who)

    def submit(self, who):
        done, _ = self.call(self.model.may_edit(who), f"{who} submits",
                            lambda: plan_submit(actor=self.user(who), plan=self.fresh()))
        if done:
            self.model.submitted()

    def withdraw(self, who):
        done, _ = self.call(self.model.may_withdraw(who), f"{who} withdraws",
                            lambda: plan_withdraw(actor=self.user(who), plan=self.fresh()))
        if done:
            self.model.move(plan_events.PLAN_WITHDRAWN.name, DRAFT)

    def start(self, who) -> ModelReview | None:
        done, review = self.call(
            self.model.may_start(who), f"{who} starts a review",
            lambda: services.review_start(actor=self.user(who), plan=self.plan))
        if not done:
            return None
        assert (review.reviewer.username, review.revision.number) == (who, self.model.current)
        existing = self.model.review_of(who)
        if existing is not None:  # the same review again
            assert review.pk == existing.pk
            return existing
        return self.model.started(who, review.pk)

    def answer(self, who, review: ModelReview, index: int, answer: str) -> bool:
        done, _ = self.call(
            self.model.may_answer(who, review), f"{who} answers {review.reviewer}'s review",
            lambda: services.review_answer(actor=self.user(who),
                                           review=Review.objects.get(pk=review.pk),
                                           item=self.items[index], answer=answer))
        if done:
            review.answers[index] = answer
        return done

    def decide(self, who, review: ModelReview, decision: str, comment: str = "Because."):
        done, _ = self.call(
            self.model.may_decide(who, review, decision, comment),
            f"{who} decides {decision} on {review.reviewer}'s review",
            lambda: services.review_decide(actor=self.user(who),
                                           review=Review.objects.get(pk=review.pk),
                                           decision=decision, comment=comment))
        if done:
            review.decision = decision
            self.model.settle()

    def whole_review(self, who, decision):
        """Start, answer every item yes, decide (with a comment); stop at the first refusal."""
        review = self.start(who)
        if review is None:
            return
        for index in range(ITEMS):
            if not self.answer(who, review, index, "yes"):
                return
        self.decide(who, review, decision)

    def raise_concern(self, who):
        done, concern = self.call(
            self.model.may_raise(who), f"{who} raises a concern",
            lambda: services.concern_raise(actor=self.user(who), plan=self.plan,
                                           title="Unclear rollback"))
        if done:
            self.model.concerns.append(ModelConcern(who, concern.pk))

    def resolve_concern(self, who, concern: ModelConcern):
        done, _ = self.call(
            self.model.may_resolve(who, concern), f"{who} resolves {concern.raiser}'s concern",
            lambda: services.concern_resolve(actor=self.user(who),
                                             concern=Concern.objects.get(pk=concern.pk)))
        if done:
            concern.open = False
            self.model.settle()

    def change_account(self, who, change):
        """An admin's change the status does not follow at once (it settles at the next
        decision): deactivate, reactivate, leave Reviewers, rejoin Reviewers."""
        person = self.user(who)
        self.changed.add(who)
        person.__dict__.pop("_plangate_roles", None)  # as the next request would load it
        if change in ("deactivate", "reactivate"):
            person.is_active = self.model.active[who] = change == "reactivate"
            person.save(update_fields=["is_active"])
        elif change == "leave Reviewers":
            person.groups.remove(Group.objects.get(name=REVIEWERS))
            self.model.groups[who].discard(REVIEWERS)
        else:
            person.groups.add(Group.objects.get(name=REVIEWERS))
            self.model.groups[who].add(REVIEWERS)

    # --- the one rule
    def menu(self) -> list[str]:
        model = self.model
        if model.status == PENDING:
            menu = ["a whole review"] * 4 + ["start", "withdraw", "withdraw", "raise a concern",
                                              "an admin changes an account"]
        elif model.status in EDITABLE:
            menu = ["submit"] * 3 + ["edit"] * 2 + ["raise a concern"]
        else:
            menu = ["next plan"] * 2
        if model.reviews:
            menu += ["answer", "decide"]
        if any(c.open for c in model.concerns):
            menu += ["resolve a concern"] * 2
        return [*menu, "an admin changes an account", "anyone tries anything"]

    def undecided(self) -> list[str]:
        """Reviewers who have not decided on this revision yet (else all of them)."""
        decided = self.model.current_decisions()
        return [who for who in CHANGEABLE if who not in decided] or list(CHANGEABLE)

    @rule(data=st.data())
    def act(self, data):
        action = data.draw(st.sampled_from(self.menu()), label="action")
        if action == "next plan":  # the last one is over; perhaps under another policy
            self.new_plan(data.draw(st.sampled_from(TEXTS), label="text"),
                          data.draw(st.sampled_from(RISKS), label="risk"),
                          policy=data.draw(st.one_of(st.none(), self.policies), label="policy"))
            return
        if action == "an admin changes an account":
            self.change_account(
                data.draw(st.sampled_from(CHANGEABLE), label="who"),
                data.draw(st.sampled_from(["deactivate", "reactivate", "leave Reviewers",
                                           "rejoin Reviewers"]), label="change"))
            return
        if action == "anyone tries anything":  # whatever the state; mostly refused
            action = data.draw(st.sampled_from(["submit", "withdraw", "edit", "start",
                                                "raise a concern"]), label="out of turn")
            who = data.draw(st.sampled_from(sorted(PEOPLE)), label="who")
        else:
            who = data.draw(st.sampled_from({
                "submit": ["alice"] * 4 + ["eve", "ada", "mallory"],
                "edit": ["alice"] * 3 + ["eve", "ada", "rob"],
                "withdraw": ["alice", "alice", "ada", "rob"],
                "a whole review": [*self.undecided(), "alice"],
                "start": [*CHANGEABLE, *CHANGEABLE, "alice", "ada"],
                "raise a concern": sorted(PEOPLE),
            }.get(action, ["<theirs>"] * 4 + sorted(PEOPLE))), label="who")
        if action in ("answer", "decide"):  # mostly an open review of the current revision
            reviews = self.model.reviews
            if data.draw(st.booleans(), label="an open review of this revision"):
                reviews = [r for r in reviews if r.revision == self.model.current
                           and not r.decision] or reviews
            review = data.draw(st.sampled_from(reviews), label="review")
            who = review.reviewer if who == "<theirs>" else who
        if action == "resolve a concern":
            concern = data.draw(st.sampled_from([c for c in self.model.concerns if c.open]),
                                label="concern")
            who = concern.raiser if who == "<theirs>" else who
        if not self.model.active[who]:
            return  # a deactivated account cannot sign in
        if action == "submit":
            self.submit(who)
        elif action == "edit":
            text = data.draw(st.sampled_from(TEXTS), label="text")
            self.edit(who, text, data.draw(st.sampled_from(RISKS), label="risk"))
        elif action == "withdraw":
            self.withdraw(who)
        elif action == "a whole review":
            self.whole_review(who, data.draw(st.sampled_from(
                [APPROVED, NEEDS_REVISION, APPROVED, REJECTED, APPROVED, NEEDS_REVISION]),
                label="decision"))
        elif action == "start":
            self.start(who)
        elif action == "answer":
            items = data.draw(st.sampled_from([range(ITEMS), *([i] for i in range(ITEMS))]),
                              label="items")
            answer = data.draw(st.sampled_from(["yes", "yes", "na", "no"]), label="answer")
            for index in items:
                if not self.answer(who, review, index, answer):
                    break
        elif action == "decide":
            self.decide(who, review,
                        data.draw(st.sampled_from([APPROVED, NEEDS_REVISION, REJECTED]),
                                  label="decision"),
                        data.draw(st.sampled_from(["Please add load tests.", ""]),
                                  label="comment"))
        elif action == "raise a concern":
            self.raise_concern(who)
        elif action == "resolve a concern":
            self.resolve_concern(who, concern)

    # --- the database agrees with the model
    @invariant()
    def database_matches_the_model(self):
        self.check()

    def check(self):
        model, plan = self.model, self.plan
        plan.refresh_from_db()
        assert plan.status == model.status, f"plan is {plan.status}, the rules say {model.status}"

        revisions = list(PlanRevision.objects.filter(plan=plan).order_by("number")
                         .values_list("number", "content_hash"))
        assert [n for n, _ in revisions] == list(range(1, model.current + 1))
        for i, (_, hash_i) in enumerate(revisions):
            for j, (_, hash_j) in enumerate(revisions):
                same = model.revisions[i] == model.revisions[j]
                assert (hash_i == hash_j) == same, f"revisions {i + 1} and {j + 1}"

        reviews = list(Review.objects.filter(plan=plan).values_list(
            "pk", "reviewer__username", "revision__number", "decision"))
        assert sorted(reviews) == sorted(
            (r.pk, r.reviewer, r.revision, r.decision) for r in model.reviews)
        assert not [r for r in reviews if r[1] == AUTHOR and r[3]], "the author decided"
        for pk, _, _, decision in reviews:  # a decision never changes
            if decision:
                assert self.seen_decisions.setdefault(pk, decision) == decision
        answers = ChecklistAnswer.objects.filter(review__plan=plan).values_list(
            "review_id", "item_id", "answer")
        assert sorted((pk, self.item_index[item], a) for pk, item, a in answers) == sorted(
            (r.pk, i, a) for r in model.reviews for i, a in r.answers.items())

        concerns = Concern.objects.filter(plan=plan).values_list(
            "pk", "raised_by__username", "resolved_at")
        assert sorted((pk, who, when is None) for pk, who, when in concerns) == sorted(
            (c.pk, c.raiser, c.open) for c in model.concerns)
        assert set(PlanEditor.objects.filter(plan=plan).values_list(
            "user__username", flat=True)) == model.editors

        entries = list(AuditEntry.objects.filter(
            plan=plan, action__in=[e.name for e in TRANSITION_EVENTS],
        ).order_by("id").values_list("action", "payload"))
        assert [(a, p["from"], p["to"]) for a, p in entries] == [
            (t.action, t.source, t.target) for t in model.transitions]
        for (_, payload), t in zip(entries, model.transitions, strict=True):
            if t.approvals is not None:
                assert sorted(payload["approvals"]) == t.approvals, "recorded approvals"


@pytest.fixture
def people_and_a_short_checklist(db):
    Group.objects.get_or_create(name=SECURITY)
    for who, groups in PEOPLE.items():
        UserFactory(username=who, roles=list(groups))
    items = ChecklistItem.objects.filter(group__template__is_default=True).order_by(
        "group__position", "position", "id")
    ChecklistItem.objects.filter(pk__in=list(items.values_list("pk", flat=True)[ITEMS:])).delete()
    ReviewMachine.changed = set()


def test_random_review_runs_agree_with_the_model(people_and_a_short_checklist):
    reached.clear()
    run_state_machine_as_test(ReviewMachine, settings=settings(
        max_examples=25, stateful_step_count=30, deadline=None, derandomize=True,
        database=None, suppress_health_check=[HealthCheck.too_slow],
        # No shrinking: with the database in every step it takes minutes. A failure prints its
        # whole run (at most 30 steps); add Phase.shrink here to get a shorter one.
        phases=[Phase.explicit, Phase.generate],
    ))
    # The runs reached every outcome, and approvals under the stricter policies (derandomized:
    # the same runs every time). Rarer paths (kept, stale and discounted approvals) are usually
    # reached too; the fixed stories below go through each of them for certain.
    missed = [path for path in (
        PlanStatus.APPROVED, PlanStatus.NEEDS_REVISION, PlanStatus.REJECTED, PlanStatus.DRAFT,
        "APPROVED under a stricter policy",
    ) if not reached[path]]
    assert not missed, f"no run reached {missed}: {dict(reached)}"


# --- fixed stories: the paths the rules single out, each for certain ----------------------------
# Each step is checked against the model (as in the random runs) and the status after it is
# spelled out, so that the model itself is checked against the rules as written.
def story(policy: dict, steps) -> None:
    machine = ReviewMachine()
    policy = dict(policy)
    machine.setup(policy, risk=policy.pop("risk", "low"))
    machine.check()
    for step, expected in steps:
        step(machine)
        machine.check()
        assert machine.plan.status == expected, (step, expected)


def whole_review(who, decision=APPROVED):
    return lambda m: m.whole_review(who, decision)


def resolve(who):
    return lambda m: m.resolve_concern(who, next(c for c in m.model.concerns if c.open))


def test_two_approvals_and_a_concern(people_and_a_short_checklist):
    story({"min_approvals": 2}, [
        (whole_review("rob"), PENDING),
        (lambda m: m.raise_concern("rita"), PENDING),
        (whole_review("rita"), PENDING),  # two approvals, but a concern is open
        (resolve("ada"), PlanStatus.APPROVED),  # an admin who did not write the plan
    ])


def test_an_unchanged_resubmission_keeps_its_approvals(people_and_a_short_checklist):
    story({"min_approvals": 2}, [
        (whole_review("rob"), PENDING),
        (whole_review("ray", NEEDS_REVISION), PlanStatus.NEEDS_REVISION),
        (lambda m: m.edit(AUTHOR, TEXTS[0], "low"), PlanStatus.NEEDS_REVISION),  # no change
        (lambda m: m.submit(AUTHOR), PENDING),
        (whole_review("rita"), PlanStatus.APPROVED),  # rob's approval of revision 1 counts
    ])


def test_a_changed_resubmission_makes_approvals_stale(people_and_a_short_checklist):
    story({"min_approvals": 2}, [
        (whole_review("rob"), PENDING),
        (lambda m: m.withdraw(AUTHOR), DRAFT),
        (lambda m: m.edit(AUTHOR, TEXTS[1], "low"), DRAFT),
        (lambda m: m.submit(AUTHOR), PENDING),
        (whole_review("rita"), PENDING),  # rob's approval is stale
        (lambda m: m.edit(AUTHOR, TEXTS[0], "low"), PENDING),  # refused: under review
        (whole_review("rob"), PlanStatus.APPROVED),
    ])


def test_back_to_the_approved_content_brings_the_approval_back(people_and_a_short_checklist):
    """Revision 3 has revision 1's content: an approval of revision 1 counts again."""
    story({"min_approvals": 2}, [
        (whole_review("rob"), PENDING),
        (lambda m: m.withdraw(AUTHOR), DRAFT),
        (lambda m: m.edit(AUTHOR, TEXTS[1], "low"), DRAFT),
        (lambda m: m.submit(AUTHOR), PENDING),
        (lambda m: m.withdraw(AUTHOR), DRAFT),
        (lambda m: m.edit(AUTHOR, TEXTS[0], "low"), DRAFT),
        (lambda m: m.submit(AUTHOR), PENDING),
        (whole_review("rita"), PlanStatus.APPROVED),
    ])


def test_high_risk_raises_the_minimum_and_adds_the_group(people_and_a_short_checklist):
    story({"min_approvals": 1, "high_risk_min": 2, "security": "when high risk",
           "risk": "high"}, [
        (whole_review("rob"), PENDING),
        (whole_review("ray"), PENDING),  # two approvals, none from Security
        (whole_review("rita"), PlanStatus.APPROVED),
    ])


def test_high_risk_never_lowers_the_minimum(people_and_a_short_checklist):
    story({"min_approvals": 2, "high_risk_min": 1, "risk": "high"}, [
        (whole_review("rob"), PENDING),
        (whole_review("ray"), PlanStatus.APPROVED),
    ])


def test_a_required_group_must_approve(people_and_a_short_checklist):
    story({"min_approvals": 1, "security": "always"}, [
        (whole_review("rob"), PENDING),
        (whole_review("rita"), PlanStatus.APPROVED),
    ])


@pytest.mark.parametrize("change", ["deactivate", "leave Reviewers"])
def test_an_approval_counts_only_while_its_reviewer_is_an_active_reviewer(
        people_and_a_short_checklist, change):
    back = {"deactivate": "reactivate", "leave Reviewers": "rejoin Reviewers"}[change]
    story({"min_approvals": 2}, [
        (whole_review("rob"), PENDING),
        (lambda m: m.change_account("rob", change), PENDING),
        (whole_review("rita"), PENDING),  # rob's approval no longer counts
        (lambda m: m.change_account("rob", back), PENDING),  # settles at the next decision
        (lambda m: m.raise_concern("ray"), PENDING),
        (resolve("ray"), PlanStatus.APPROVED),
    ])


def test_a_co_authors_approval_never_counts(people_and_a_short_checklist):
    """Eve approved revision 1, then edited the plan (as an admin): her approval of the same
    content is not counted, and she may not review it again."""
    story({"min_approvals": 2}, [
        (whole_review("eve"), PENDING),
        (whole_review("ray", NEEDS_REVISION), PlanStatus.NEEDS_REVISION),
        (lambda m: m.edit("eve", TEXTS[0], "low"), PlanStatus.NEEDS_REVISION),  # no change
        (lambda m: m.submit(AUTHOR), PENDING),
        (whole_review("eve"), PENDING),  # refused: a co-author
        (whole_review("rob"), PENDING),  # one approval that counts
        (whole_review("rita"), PlanStatus.APPROVED),
    ])


def test_rejection_wins_and_is_final(people_and_a_short_checklist):
    story({"min_approvals": 2}, [
        (whole_review("rob"), PENDING),
        (whole_review("rita", REJECTED), PlanStatus.REJECTED),
        (lambda m: m.submit(AUTHOR), PlanStatus.REJECTED),  # refused
        (lambda m: m.raise_concern("ray"), PlanStatus.REJECTED),  # refused
    ])
