"""Reads for the review pages: each does a fixed number of queries, however many rows."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import date as date_filter
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone

from audit.selectors import data_version
from core import cache as shared_cache
from core.compiled import CompiledQuery
from notifications import events as audiences
from notifications.services import RECIPIENT_FIELDS
from plans import permissions as plan_permissions
from plans import schema
from plans import selectors as plan_selectors
from plans.diff import section_diff
from plans.models import Plan, PlanRevision, PlanStatus, PlanStep, is_high_risk
from plans.rendering import DOCUMENT_TEMPLATES, RENDER_VERSION, revision_html

from . import conversation, permissions, policy
from .certificate import approval_digest, approved_revisions
from .models import (
    ChecklistAnswer,
    ChecklistGroup,
    ChecklistItem,
    Comment,
    CommentEdit,
    Concern,
    Review,
    ReviewRequest,
)


def _reviews(plan: Plan):
    return (
        Review.objects.filter(plan=plan)
        .select_related("revision", "reviewer")
        .defer("revision__content")
        .prefetch_related("reviewer__groups")
        .order_by("revision__number", "created_at", "id")
    )


@dataclass
class Panel:
    """What the review panel on the plan page shows."""

    plan: Plan
    revision: PlanRevision | None
    status: policy.PolicyStatus
    reviews: list[Review]  # on the current revision
    concerns: list[Concern]  # open ones
    requests: list[ReviewRequest]
    turn: str
    my_review: Review | None = None
    can_submit: bool = False
    can_withdraw: bool = False
    can_review: bool = False
    can_request: bool = False
    can_raise_concern: bool = False
    resolvable: set[int] = field(default_factory=set)  # ids of open concerns `user` may resolve
    missing_for_submission: list[str] = field(default_factory=list)
    earlier: list[Review] = field(default_factory=list)  # decided reviews of earlier revisions
    rerequest: list = field(default_factory=list)  # reviewers the author may ask again
    can_start_from: bool = False  # a rejected plan: start a new one from its content
    open_threads: int = 0  # conversation threads nobody resolved yet (outdated ones too)


#: Only to free old versions' entries: a committed write anywhere is a new version.
PANEL_ROWS_SECONDS = 10 * 60


def _load_panel_rows(plan: Plan) -> tuple[list[Review], list[Concern], list[ReviewRequest],
                                          int]:
    """The plan's reviews, its open concerns, its review requests and how many of its threads
    are open: five queries (four, without reviews). Users without their password hash: these
    rows may be cached."""
    reviews = list(_reviews(plan).defer("reviewer__password"))
    concerns = list(
        Concern.objects.filter(plan=plan, resolved_at__isnull=True)
        .select_related("raised_by", "step").defer("raised_by__password")
        .order_by("created_at", "id")
    )
    requests = list(ReviewRequest.objects.filter(plan=plan).select_related("user", "group")
                    .defer("user__password"))
    open_threads = Comment.objects.filter(plan=plan, parent=None, resolved_at=None).count()
    return reviews, concerns, requests, open_threads


def _panel_rows(plan: Plan):
    """_load_panel_rows, cached under the plan page's ``plan.data_version`` (plans/selectors.py
    plan_for_page: the heads of the audit trail and the admin history), so a page view after
    no write reads none of them; without a version (another caller), read."""
    key = panel_rows_key(plan)
    if key is None:
        return _load_panel_rows(plan)
    return shared_cache.cached(key, lambda: _load_panel_rows(plan), PANEL_ROWS_SECONDS)


def panel_rows_key(plan: Plan) -> str | None:
    """Where _panel_rows keeps the plan's rows: under the data version read with the plan
    (plan_for_page), None without one."""
    version = getattr(plan, "data_version", None)
    return None if version is None else f"reviews:panel-rows:v2:{plan.pk}:{version}"


def review_panel(plan: Plan, user, *, described_policy: dict | None = None) -> Panel:
    """Status, whose turn it is, what is missing, open concerns and the actions `user` may take.

    A fixed number of queries whatever the number of reviews, concerns and requests: on the
    plan page none after no write (its revision and editors come with its document, the rows
    from _panel_rows, the policy from ``described_policy``, loaded once for the whole page);
    for another caller about six.
    """
    # The current revision, without its text (the panel shows its number and hash), read once
    # for the whole plan page (its draft controls ask whether there is one).
    revision = plan_selectors.current_revision(plan)
    reviews, concerns, requests, open_threads = _panel_rows(plan)
    editors = plan_selectors.editor_ids(plan)  # on the plan page: from its cache entry
    prefetched = getattr(plan, "_prefetched_objects_cache", {}).get("steps")
    steps = list(prefetched if prefetched is not None else
                 PlanStep.objects.filter(plan=plan).only("id", "risk", "objective", "plan_id"))
    status = policy.evaluate(
        plan=plan, revision=revision, reviews=reviews, open_concerns=len(concerns),
        policy=described_policy if described_policy is not None
        else policy.describe_policy(policy.active_policy()),
        high_risk=is_high_risk(s.risk for s in steps),
        editors=editors,
    )
    current = [r for r in reviews if revision is not None and r.revision_id == revision.pk]
    under_review = plan.status == PlanStatus.PENDING_REVIEW
    panel = Panel(
        plan=plan, revision=revision, status=status,
        # A review left undecided counts only while the plan is under review: a withdrawn plan
        # has nobody "reviewing" it.
        reviews=[r for r in current if r.decision or under_review], concerns=concerns,
        requests=requests, turn=whose_turn(plan, current, requests, status),
        earlier=[r for r in reviews if r.decision and r not in current],
        open_threads=open_threads,
    )
    panel.my_review = next((r for r in panel.reviews if r.reviewer_id == user.pk), None)
    if permissions.can_request_reviewers(plan, user):
        ahead = {r.reviewer_id for r in current}
        panel.rerequest = [u for u in permissions.rerequestable(plan, reviews, revision)
                           if u.pk not in ahead]  # asked again: reviewed only earlier ones
    panel.can_start_from = (plan.status == PlanStatus.REJECTED
                            and plan_permissions.can_start_from(plan, user))
    panel.can_submit = plan_permissions.can_submit(plan, user)
    panel.can_withdraw = plan_permissions.can_withdraw(plan, user)
    panel.can_review = permissions.can_review(plan, user, editor_ids=editors)
    panel.can_request = permissions.can_request_reviewers(plan, user)
    panel.can_raise_concern = permissions.can_raise_concern(plan, user, editor_ids=editors)
    panel.resolvable = {
        c.pk for c in concerns
        if permissions.can_resolve_concern(c, user, plan=plan, editor_ids=editors)
    }
    if panel.can_submit:
        panel.missing_for_submission = plan.missing_for_submission()
    return panel


def whose_turn(plan: Plan, current: list[Review], requests, status) -> str:
    if plan.status in (PlanStatus.DRAFT, PlanStatus.NEEDS_REVISION):
        return f"{plan.author.get_full_name() or plan.author.get_username()} (the author)"
    if plan.status != PlanStatus.PENDING_REVIEW:
        return ""
    decided = set(status.decisions) | {r.reviewer_id for r in status.kept_approvals}
    # A deactivated reviewer cannot review: not waited for (nobody active left: "Any reviewer").
    waiting = [r.user.get_username() for r in requests
               if r.user and r.user.is_active and r.user_id not in decided]
    waiting += [f"the {r.group.name} group" for r in requests if r.group]
    if waiting:
        return "Reviewers: " + ", ".join(waiting)
    if status.open_concerns and not status.missing_approvals:
        return "Resolving the open concerns"
    return "Any reviewer"


@dataclass
class ReviewPage:
    review: Review
    plan: Plan
    revision: PlanRevision
    current: PlanRevision | None
    groups: list  # [(group, [(item, answer or None)])]
    answered: int
    total: int
    concerns: list[Concern]
    stale_reviews: list[Review]  # my approvals of earlier, different content
    diff: list  # section diff from the revision I last reviewed to this one
    diff_from: PlanRevision | None
    is_current: bool
    can_answer: bool
    can_raise_concern: bool
    steps: list[PlanStep]  # for the concern form (only when the viewer may raise one)
    unconfirmed: int = 0  # answers carried over from an earlier revision, not yet confirmed
    carried: int = 0  # answers carried over (confirmed or not)
    carried_from: PlanRevision | None = None
    amends: bool = False  # diff_from is the approved revision this amendment changes
    plan_html: str = ""  # the revision, rendered


@dataclass(frozen=True)
class Counts:
    """The checklist's counters, as the review page and each saved answer show them."""

    answered: int
    total: int
    unconfirmed: int


def checklist_counts(review: Review) -> Counts:
    """Answered / total items and carried answers still to confirm (two queries)."""
    total = ChecklistItem.objects.filter(group__template=review.checklist_id).count()
    answers = list(ChecklistAnswer.objects.filter(review=review, item__isnull=False)
                   .values_list("carried_from_id", "confirmed"))
    return Counts(answered=len(answers), total=total,
                  unconfirmed=sum(1 for carried, ok in answers if carried and not ok))


def _item_sections(text: str) -> list[str]:
    """The plan sections a checklist item names ("Testing strategy is comprehensive": Testing
    Strategy), by heading; none for an item about the plan as a whole."""
    words = text.casefold()
    return [s.heading for s in schema.SECTIONS
            if s.kind not in schema.REVIEWER_KINDS and s.heading.casefold() in words]


def _carried_label(answer, sections: list[str], changed: list[str] | None) -> str:
    """How a carried-over answer reads: "from revision 1, section unchanged"."""
    where = f"from revision {answer.carried_from.number}"
    if changed is None:
        return where
    if not changed:
        return f"{where}, plan unchanged"
    if not sections:
        return f"{where}, the plan changed since"
    touched = [h for h in sections if any(h in path.split(" / ") for path in changed)]
    if touched:
        return f"{where}, {', '.join(touched)} changed since"
    return f"{where}, unchanged section{'s' if len(sections) > 1 else ''}"


def label_carried(review: Review, carried: list, known: PlanRevision | None = None):
    """Give each carried-over answer its ``carried_label`` ("from revision 1, unchanged
    section"), comparing the revision it came from with the review's; returns that revision.
    The answers come from one earlier review, so one revision is read (none if it is
    ``known``)."""
    if not carried:
        return None
    source = (known if known is not None and known.pk == carried[0].carried_from_id
              else PlanRevision.objects.get(pk=carried[0].carried_from_id))
    changed = [d.heading for d in section_diff(source.content, review.revision.content)
               if d.changed]
    for answer in carried:
        same = answer.carried_from_id == source.pk
        answer.carried_label = _carried_label(answer, _item_sections(answer.item_text),
                                              changed if same else None)
    return source


def _checklist(template_id: int) -> list[tuple[ChecklistGroup, list[ChecklistItem]]]:
    """The checklist's groups, each with its items, in order: one query (a group without
    items still shows)."""
    groups: dict[int, tuple[ChecklistGroup, list[ChecklistItem]]] = {}
    for gid, title, position, iid, text, item_position in (
        ChecklistGroup.objects.filter(template=template_id)
        .order_by("position", "id", "items__position", "items__id")
        .values_list("id", "title", "position", "items__id", "items__text", "items__position")
    ):
        if gid not in groups:
            groups[gid] = (ChecklistGroup(id=gid, template_id=template_id, title=title,
                                          position=position), [])
        if iid is not None:
            groups[gid][1].append(ChecklistItem(id=iid, group_id=gid, text=text,
                                                position=item_position))
    return list(groups.values())


#: Only to free old versions' entries: any committed write is a new version.
PAGE_ROWS_SECONDS = 10 * 60
#: Bump when what the cached page rows hold, or the wording built into them (a thread's or a
#: carried answer's label), changes.
ROWS_VERSION = 1


@functools.cache
def code_version() -> str:
    """What the cached page rows are rendered with besides the data: the Markdown renderer's
    version, the plan document's templates (revision_html), the conversation's partials,
    the certificate's approval partial and labels. In every key (versioned), so a release that
    changes any of them reads afresh. Code: the same for the life of a process."""
    templates = [get_template(name).template.source for name in DOCUMENT_TEMPLATES]
    parts = [str(ROWS_VERSION), str(RENDER_VERSION), *templates, conversation.partials_digest(),
             approval_digest()]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def versioned(key: str, version: str | None, load, *, read_with: Iterable[str] = ()):
    """``load()``, cached under ``key`` at ``version`` (read afresh without one). What it
    reads is read after the version was, so it is never older than its key says.
    ``read_with``: the cache keys the rest of the page reads (the layout's), read in the same
    round trip."""
    key = f"{key}:{code_version()}:{version}"
    shared_cache.read_ahead([*([key] if version else []), *read_with])
    if version is None:
        return load()
    return shared_cache.cached(key, load, PAGE_ROWS_SECONDS)


@dataclass
class _ReviewRows:
    """What the review page reads, but for what the viewer may do: cached per version."""

    review: Review
    editors: set[int]  # who changed the plan's content
    current: PlanRevision | None
    groups: list
    carried: list  # the answers carried over, labelled
    carried_from: PlanRevision | None
    reviews: list[Review]  # the reviewer's reviews of the plan
    concerns: list[Concern]
    comment_html: str
    plan_html: str  # the review's revision (plans.rendering.revision_html, cached by its hash)
    steps: list[PlanStep]
    diff: list
    diff_from: PlanRevision | None
    amends: bool


def _review_rows(review_id: int) -> _ReviewRows:
    """Ten queries or so (fewer without an earlier review or an amendment to diff against).
    Users without their password hash: these rows are cached."""
    review = get_object_or_404(
        Review.objects.select_related("plan__author", "revision", "reviewer")
        .defer("plan__author__password", "reviewer__password"), pk=review_id)
    plan = review.plan
    answers = {a.item_id: a for a in ChecklistAnswer.objects.filter(review=review)
               .select_related("carried_from").defer("carried_from__content")}
    rows = [(g, [(item, answers.get(item.pk)) for item in items])
            for g, items in _checklist(review.checklist_id)]
    # The reviewer's reviews of the plan, only as far as the diff and their stale approvals
    # need them (decisions_for sorts each reviewer's decisions independently of the others').
    reviews = list(
        Review.objects.filter(plan=plan, reviewer=review.reviewer_id).select_related("revision")
        .only("id", "plan_id", "revision_id", "reviewer_id", "decision", "decided_at",
              "created_at", "revision__id", "revision__number", "revision__content_hash")
        .order_by("revision__number", "created_at", "id")
    )
    current = (PlanRevision.objects.filter(plan=plan).order_by("-number")
               .only("id", "plan_id", "number", "content_hash").first())
    concerns = list(
        Concern.objects.filter(plan=plan, resolved_at__isnull=True)
        .select_related("raised_by", "step").defer("raised_by__password")
    )
    # The decision's comment and the concerns' texts, rendered in one cache round trip.
    html = conversation.comment_html([review.comment, *(c.body for c in concerns)])
    for concern in concerns:
        concern.body_html = html.get(concern.body, "")
    # For the concern form, shown only to those who may raise one (the viewer is not asked
    # here: these rows are the same for every viewer).
    steps = list(PlanStep.objects.filter(plan=plan).only("id", "title", "position", "plan_id"))
    mine_earlier = [
        r for r in reviews
        if r.reviewer_id == review.reviewer_id and r.revision.number < review.revision.number
        and r.decision
    ]
    diff, diff_from = [], None
    if mine_earlier:
        last = mine_earlier[-1]
        if last.revision.content_hash != review.revision.content_hash:
            diff_from = PlanRevision.objects.get(pk=last.revision_id)
            diff = [s for s in section_diff(diff_from.content, review.revision.content)
                    if s.changed]
    amends = False
    if diff_from is None and review.revision.number > 1:
        # An amendment of an approved plan: a reviewer new to it sees what changed since the
        # revision approved before (the certificate's record of approvals).
        approved = [a.revision for a in approved_revisions(plan)
                    if a.revision.number < review.revision.number]
        if approved and approved[-1].content_hash != review.revision.content_hash:
            diff_from, amends = PlanRevision.objects.get(pk=approved[-1].pk), True
            diff = [s for s in section_diff(diff_from.content, review.revision.content)
                    if s.changed]
    carried = [a for a in answers.values() if a.carried_from_id]
    carried_from = label_carried(review, carried, known=diff_from)
    return _ReviewRows(review=review, editors=policy.editor_ids(plan), current=current,
                       groups=rows, carried=carried, carried_from=carried_from,
                       reviews=reviews, concerns=concerns,
                       comment_html=html.get(review.comment, ""),
                       plan_html=revision_html(review.revision), steps=steps, diff=diff,
                       diff_from=diff_from, amends=amends)


def review_page(review_id: int, user) -> ReviewPage:
    """The review page: the revision, the checklist with answers, concerns, what changed.

    Read whole from the cache (_review_rows, under the review and the data version: one
    statement) while no write committed since; what the viewer may do is worked out here."""
    data = versioned(f"reviews:review-page:{review_id}", data_version(),
                     lambda: _review_rows(review_id))
    review = data.review
    plan = review.plan
    review.comment_html = data.comment_html
    total = sum(len(items) for _, items in data.groups)
    answered = sum(1 for _, items in data.groups for _, a in items if a is not None)
    editors = {user.pk} & data.editors  # whether the viewer edits it is all that is asked
    can_raise_concern = permissions.can_raise_concern(plan, user, editor_ids=editors)
    current = data.current
    # As policy.evaluate() counts them (decisions_for is the part of it the page shows).
    stale = [] if current is None else [
        r for r in policy.decisions_for(current, data.reviews).stale
        if r.reviewer_id == review.reviewer_id]
    is_current = current is not None and review.revision_id == current.pk
    return ReviewPage(
        review=review, plan=plan, revision=review.revision, current=current, groups=data.groups,
        answered=answered, total=total, concerns=data.concerns,
        stale_reviews=stale, diff=data.diff, diff_from=data.diff_from, amends=data.amends,
        is_current=is_current,
        can_answer=(is_current and not review.decision and plan.status == PlanStatus.PENDING_REVIEW
                    and permissions.owns_review(review, user)),
        can_raise_concern=can_raise_concern,
        steps=data.steps if can_raise_concern else [],
        unconfirmed=sum(1 for a in data.carried if not a.confirmed), carried=len(data.carried),
        carried_from=data.carried_from, plan_html=data.plan_html,
    )


def plan_for_reviews(plan_id: int) -> Plan:
    """The plan with its author (without the password hash: conversation_page caches it)."""
    return get_object_or_404(Plan.objects.select_related("author").defer("author__password"),
                             pk=plan_id)


#: The edit forms say how long a comment stays editable.
EDIT_MINUTES = int(permissions.COMMENT_EDIT_WINDOW.total_seconds() // 60)


@dataclass
class Thread:
    """A top-level comment and its replies, placed on the revision the page shows."""

    root: Comment
    replies: list[Comment]
    lines: tuple[int, int] | None  # where its anchor stands on the shown revision
    outdated: bool  # anchored on text the shown revision no longer has
    moved: bool  # anchored on other lines, or another revision, than the shown ones
    can_resolve: bool
    label: str = "Whole plan"  # where it is, e.g. "Step 2 · lines 40 to 48"
    fragments: conversation.ThreadFragments | None = None  # its HTML, for every viewer
    html: str = ""  # as this viewer sees it

    @property
    def comments(self) -> list[Comment]:
        return [self.root, *self.replies]

    @property
    def anchored(self) -> bool:
        return self.root.line_from is not None

    @property
    def at(self):
        return self.root.created_at


@dataclass
class Conversation:
    plan: Plan
    revision: PlanRevision | None  # the one shown (the current one unless asked)
    revisions: list[int]  # every revision's number
    blocks: list[tuple]  # (conversation.Block, [Thread anchored to end there])
    document: list[tuple]  # (cached HTML of blocks, the threads after them), as laid out
    general: list  # Thread (not anchored, or outdated) and decided Review, oldest first
    steps: dict  # number -> (from, to, title) on the shown revision
    sections: list[str]
    can_comment: bool
    thread_count: int = 0
    threads: list = field(default_factory=list)  # every Thread, wherever it stands
    editors: set = field(default_factory=set)  # who changed the plan's content


def placement(root: Comment, shown: PlanRevision | None, lines: list[str]):
    """(lines on the shown revision or None, outdated, moved) for a thread's anchor."""
    if root.line_from is None:
        return None, False, False
    if shown is None:
        return None, True, True
    if root.revision_id == shown.pk:
        return (root.line_from, root.line_to), False, False
    found = conversation.locate(root.anchor_text, root.line_from, lines)
    return found, found is None, True


def _lines_label(start: int, end: int) -> str:
    return f"line {start}" if start == end else f"lines {start}–{end}"


def _label(root: Comment, placed, outline) -> str:
    """Where a thread is, as a reader names it: its step or section, and its lines."""
    if root.line_from is None:
        return f"{root.section} (whole section)" if root.section else "Whole plan"
    if placed is None:  # outdated: where it was
        where = f"revision {root.revision.number}, {_lines_label(root.line_from, root.line_to)}"
        # The step it was written on, by position (the importer's numbering; None once the
        # step is gone).
        place = f"Step {root.step.position + 1}" if root.step else root.section
        return f"{place} · {where}" if place else where
    section, step = conversation.section_of(outline, placed[0])
    place = f"Step {step}" if step else section
    lines = _lines_label(*placed)
    return f"{place} · {lines}" if place else lines.capitalize()


def _document(fragments: list, blocks: list[tuple]) -> list[tuple]:
    """(HTML, threads) pairs for the page: the blocks' cached HTML, with each run of blocks
    that has no thread between them joined into one piece (a loop of sixty blocks costs more
    than their text)."""
    document: list[tuple] = []
    for fragment, (_block, threads) in zip(fragments, blocks, strict=True):
        if document and not document[-1][1]:
            document[-1] = (document[-1][0] + fragment, threads)
        else:
            document.append((fragment, threads))
    return document


def conversation_page(plan_id: int, user, number: int | None = None, *, csrf_token: str = "",
                      read_with: Iterable[str] = ()) -> Conversation:
    """The plan's rendered revision in anchorable blocks with its threads beside them, plus the
    general conversation (plan-wide threads, outdated ones, the reviewers' decisions).

    The same for every viewer but for what they may do (resolve a thread, comment), so it is
    cached, plan included, under the plan, the revision asked for and the data version (one
    statement); read afresh, a fixed number of queries however many comments. ``read_with``:
    the cache keys the rest of the page reads (the layout's), read in the same round trip."""
    def build() -> Conversation:
        plan = plan_for_reviews(plan_id)
        if not plan_permissions.can_view(plan, user):  # before any work on a page they can't see
            raise PermissionDenied("You cannot see this plan.")
        return _conversation(plan, number)

    page = versioned(f"reviews:conversation:{plan_id}:{number or 0}", data_version(), build,
                     read_with=read_with)
    plan = page.plan
    may_resolve = permissions.can_resolve_thread(plan, user, editor_ids=page.editors)
    page.can_comment = permissions.can_comment(plan, user)
    now = timezone.now()
    for thread in page.threads:
        thread.can_resolve = may_resolve
        editable = [permissions.can_edit_comment(c, user, now=now) for c in thread.comments]
        thread.html = thread.fragments.html(csrf_token, editable, page.can_comment, may_resolve)
    return page


def _conversation(plan: Plan, number: int | None) -> Conversation:
    revisions = list(PlanRevision.objects.filter(plan=plan).order_by("number")
                     .values_list("number", flat=True))
    if number is not None and number not in revisions:
        raise Http404("This plan has no such revision.")
    shown = None
    if revisions:
        shown = PlanRevision.objects.get(plan=plan, number=number or revisions[-1])
    outline = conversation.outline(shown) if shown else None
    lines = conversation.lines_of(shown.content) if shown else []
    comments = list(
        Comment.objects.filter(plan=plan)
        .select_related("author", "resolved_by", "revision", "step")
        .defer("revision__content", "author__password", "resolved_by__password")
        .order_by("created_at", "id")
    )
    history: dict[int, list[CommentEdit]] = {}
    for edit in CommentEdit.objects.filter(comment__plan=plan).order_by("replaced_at", "id"):
        history.setdefault(edit.comment_id, []).append(edit)
    replies: dict[int, list[Comment]] = {}
    for c in comments:
        c.history = history.get(c.pk, [])  # one query even with no comments (a fixed count)
        if c.parent_id is not None:
            replies.setdefault(c.parent_id, []).append(c)
    threads = []
    for root in (c for c in comments if c.parent_id is None):
        placed, outdated, moved = placement(root, shown, lines)
        threads.append(Thread(root, replies.get(root.pk, []), placed, outdated, moved,
                              False, _label(root, placed, outline)))  # can_resolve: the viewer's
    blocks = [(block, []) for block in outline.blocks] if outline else []
    general = []
    for thread in threads:
        if thread.lines is None:
            general.append(thread)
            continue
        end = thread.lines[1]
        home = next((b for b in reversed(blocks) if b[0].line_from <= end), None)
        (home[1] if home else general).append(thread)
    decisions = list(Review.objects.filter(plan=plan).exclude(decision="")
                     .select_related("reviewer", "revision")
                     .defer("revision__content", "reviewer__password"))
    # Every Markdown text of the page rendered in one cache round trip (by each text's hash).
    html = conversation.comment_html([
        *(c.body for c in comments), *(e.body for c in comments for e in c.history),
        *(r.comment for r in decisions)])
    for c in comments:
        c.body_html = html.get(c.body, "")
        c.created_iso, c.created_text = date_filter(c.created_at, "c"), date_filter(
            c.created_at, "Y-m-d H:i")
        c.edit_url = reverse("reviews:comment_edit", args=[c.pk])
        if c.parent_id is None:
            c.reply_url = reverse("reviews:comment_reply", args=[c.pk])
            c.resolve_url = reverse("reviews:thread_resolve", args=[c.pk])
            c.reopen_url = reverse("reviews:thread_reopen", args=[c.pk])
        for edit in c.history:
            edit.body_html = html.get(edit.body, "")
            edit.written_text = date_filter(edit.written_at, "Y-m-d H:i")
    for review in decisions:
        review.comment_html = html.get(review.comment, "")
    for thread in threads:
        thread.fragments = conversation.thread_fragments(thread, EDIT_MINUTES)
    fragments = conversation.block_fragments(shown, outline) if outline else []
    general = sorted([*general, *decisions],
                     key=lambda item: item.at if isinstance(item, Thread) else item.decided_at)
    return Conversation(
        plan=plan, revision=shown, revisions=revisions, blocks=blocks, general=general,
        document=_document(fragments, blocks),
        steps=outline.steps if outline else {},
        sections=outline.commentable if outline else [],
        can_comment=False, thread_count=len(threads), threads=threads,
        editors=policy.editor_ids(plan),
    )


# --- who hears about a plan (the notification audiences this app knows) --------------------------
# Each loads only the columns a notification reads of its recipients (RECIPIENT_FIELDS), in one
# query (plain subqueries: cheaper to build than correlated ones), built in one filter() call
# where it can be (each further filter() or exclude() clones the whole query).
def _requests(plan):
    return ReviewRequest.objects.filter(plan_id=plan.pk)


def _requested(plan, requests=None) -> Q:
    """Asked by name or through a group (reviews.ReviewRequest): the requests' users, and the
    members of their groups (joined in the same subquery, not one nested in another)."""
    requests = _requests(plan) if requests is None else requests
    return Q(pk__in=requests.values("user_id")) | Q(pk__in=requests.values("group__user"))


def _recipients(users) -> list:
    return list(users.only(*RECIPIENT_FIELDS).order_by("pk"))


def requested_reviewers(plan, revision=None) -> list:
    """Reviewers asked by name or through a group (reviews.ReviewRequest), by id; only group
    members (and named users) who may review this plan (reviews.policy.reviewers_of)."""
    return _recipients(policy.reviewers_of(plan, _requested(plan)))


def _asked_or_anyone(plan, *left_out: Q):
    """Who may review the plan and was asked to, or everyone who may when nobody was asked."""
    requests = _requests(plan)
    return policy.reviewers_of(plan, *left_out, _requested(plan, requests) | ~Exists(requests))


# Read by every submission's notifications: compiled once (core.compiled), from a plan that
# has only the ids the query names.
_ASKED_OR_ANYONE = CompiledQuery(lambda plan_id, author_id: _asked_or_anyone(
    Plan(pk=plan_id, author_id=author_id)).only(*RECIPIENT_FIELDS).order_by("pk"))
_EARLIER_REVIEWERS = CompiledQuery(lambda plan_id, revision_id: get_user_model().objects.filter(
    pk__in=Review.objects.filter(~Q(revision_id=revision_id), plan_id=plan_id)
    .values("reviewer_id"), is_active=True).only(*RECIPIENT_FIELDS).order_by("pk"))


def _pool(plan, exclude=None) -> list:
    """reviewer_pool, less the ids in ``exclude`` (a subquery): one query, or two when reviewers
    were requested but none of them may review the plan (then everyone who may)."""
    left_out = () if exclude is None else (~Q(pk__in=exclude),)
    requests = _requests(plan)
    if exclude is None:
        pool = _ASKED_OR_ANYONE.all(plan_id=plan.pk, author_id=plan.author_id)
    else:
        pool = _recipients(_asked_or_anyone(plan, *left_out))
    if not pool and requests.exists() and not (
            policy.reviewers_of(plan, _requested(plan, requests)).exists()):
        pool = _recipients(policy.reviewers_of(plan, *left_out))  # none asked may: whoever may
    return pool


def reviewer_pool(plan, revision=None) -> list:
    """Who a submitted plan waits on: the requested reviewers, or else every member of the
    Reviewers group who may review it (its author and co-editors may not)."""
    return _pool(plan)


def earlier_reviewers(plan, revision=None) -> list:
    """Reviewers who reviewed an earlier revision of the plan (before `revision`)."""
    # (No revision: a revision id no review has.)
    return _EARLIER_REVIEWERS.all(plan_id=plan.pk, revision_id=revision.pk if revision else 0)


def reviewers_with_started_reviews(plan, revision=None) -> list:
    revision = revision or (PlanRevision.objects.filter(plan=plan).order_by("-number")
                            .only("id").first())
    if revision is None:
        return []
    reviews = Review.objects.filter(plan_id=plan.pk, revision_id=revision.pk).values("reviewer_id")
    return _recipients(get_user_model().objects.filter(pk__in=reviews, is_active=True))


def reviewers_awaited(plan, revision) -> list:
    """Reviewers the plan still waits on: the pool minus those who decided on this revision."""
    decided = Review.objects.filter(~Q(decision=""), revision_id=revision.pk).values("reviewer_id")
    return _pool(plan, exclude=decided)


AUDIENCES = {
    audiences.REVIEWER_POOL: reviewer_pool,
    audiences.EARLIER_REVIEWERS: earlier_reviewers,
    audiences.STARTED_REVIEWERS: reviewers_with_started_reviews,
    audiences.AWAITED_REVIEWERS: reviewers_awaited,
}
