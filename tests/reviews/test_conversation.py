"""The conversation on a plan, as in a pull request: threads anchored on a revision's lines
(a range, a step or a section), replies, resolving and reopening, @mentions that notify,
editing one's own comment for a short while (history kept), anchors that follow unchanged
text into a new revision and are outdated otherwise, and the decision comments among them."""

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.core.cache import cache
from django.utils import timezone

from audit.models import AuditEntry
from core.errors import Conflict, NotAllowed, ValidationError
from notifications.models import OutboxMessage
from plans.models import PlanEditor
from reviews import conversation, services
from reviews.models import Comment, CommentEdit
from tests.factories import (
    AdminFactory,
    AuthorFactory,
    ReviewerFactory,
    ready_plan,
)
from tests.reviewkit import actions, resubmit, two_step_plan

pytestmark = pytest.mark.django_db


def step_lines(plan, number: int) -> tuple[int, int]:
    start, end, _title = conversation.outline(plan.revisions.latest("number")).steps[number]
    return start, end


def page(client, user, plan, query=""):
    client.force_login(user)
    response = client.get(f"/reviews/plan/{plan.pk}/comments/{query}")
    assert response.status_code == 200
    return response


def outbox(event: str) -> list[str]:
    return sorted({m.recipient.get_username()
                   for m in OutboxMessage.objects.filter(event=event).select_related("recipient")})


# --- anchors --------------------------------------------------------------------------------------
def test_a_comment_on_step_2_is_anchored_on_its_lines_of_the_revision(author, reviewer):
    plan = two_step_plan(author)
    comment = services.comment_post(actor=reviewer, plan=plan, body="Why now?", step_number=2)
    start, end = step_lines(plan, 2)
    lines = plan.revisions.get().content.split("\n")
    assert (comment.line_from, comment.line_to) == (start, end)
    assert lines[start - 1] == "### Step 2: Switch reads"
    assert comment.anchor_text == "\n".join(lines[start - 1:end])
    assert comment.anchor_hash == conversation.anchor_hash(comment.anchor_text)
    assert comment.section == "Implementation Steps"
    assert comment.step == plan.steps.order_by("position")[1]
    assert comment.revision == plan.revisions.get()


def test_a_line_range_a_section_or_the_whole_plan(author, reviewer):
    plan = two_step_plan(author)
    start, _end = step_lines(plan, 2)
    ranged = services.comment_post(actor=reviewer, plan=plan, body="x", line_from=start + 1,
                                   line_to=start + 1)
    assert ranged.anchor_text == "**Objective**: Point reads at it"
    assert ranged.section == "Implementation Steps"
    section = services.comment_post(actor=reviewer, plan=plan, body="x",
                                    section="Problem Statement")
    assert section.anchor_text.startswith("## Problem Statement\n")
    whole = services.comment_post(actor=reviewer, plan=plan, body="x")
    assert whole.line_from is None and whole.revision is None


@pytest.mark.parametrize("anchor, message", [
    ({"line_from": 5, "line_to": 4}, "Choose lines between 1 and"),
    ({"line_from": 1, "line_to": 10_000}, "Choose lines between 1 and"),
    ({"line_from": 2, "line_to": 2}, "blank"),
    ({"step_number": 9}, "has no step 9"),
    ({"revision": 7, "line_from": 1}, "has no revision 7"),
])
def test_a_bad_anchor_is_refused_with_a_reason(author, reviewer, anchor, message):
    plan = two_step_plan(author)
    with pytest.raises(ValidationError, match=message):
        services.comment_post(actor=reviewer, plan=plan, body="x", **anchor)
    assert not Comment.objects.exists()


def test_an_unchanged_step_keeps_its_thread_at_its_new_lines(author, reviewer):
    plan = two_step_plan(author)
    thread = services.comment_post(actor=reviewer, plan=plan, body="Why now?", step_number=2)
    plan = resubmit(plan, author, "Logins are slow under load.",
                    "Logins are slow under load.\n\nAt peak, ten seconds.")
    start, end = step_lines(plan, 2)
    assert start == thread.line_from + 2  # two lines further down
    new = plan.revisions.latest("number")
    assert conversation.locate(thread.anchor_text, thread.line_from,
                               new.content.split("\n")) == (start, end)


def test_a_changed_step_outdates_its_thread(author, reviewer):
    plan = two_step_plan(author)
    thread = services.comment_post(actor=reviewer, plan=plan, body="Why now?", step_number=2)
    plan = resubmit(plan, author, "Point reads at it", "Point reads at the new bucket")
    new = plan.revisions.latest("number")
    assert conversation.locate(thread.anchor_text, thread.line_from,
                               new.content.split("\n")) is None


def test_locate_prefers_the_nearest_unchanged_copy():
    lines = ["a", "x", "b", "x", "c", "x"]
    assert conversation.locate("x", 4, lines) == (4, 4)  # where it was
    assert conversation.locate("x", 5, lines) == (4, 4)  # nearest: 4 before 6
    assert conversation.locate("b\nx", 1, lines) == (3, 4)
    assert conversation.locate("y", 1, lines) is None


def test_the_page_places_threads_beside_their_lines_or_marks_them_outdated(client, author,
                                                                          reviewer):
    plan = two_step_plan(author)
    kept = services.comment_post(actor=reviewer, plan=plan, body="Step one?", step_number=1)
    changed = services.comment_post(actor=reviewer, plan=plan, body="Step two?", step_number=2)
    plan = resubmit(plan, author, "Point reads at it", "Point reads at the new bucket")
    context = page(client, author, plan).context["page"]
    placed = {t.root.pk: block for block, threads in context.blocks for t in threads}
    assert placed[kept.pk].step == 1 and kept.pk in placed
    outdated = [t for t in context.general if getattr(t, "root", None) == changed]
    assert outdated and outdated[0].outdated and outdated[0].lines is None
    assert outdated[0].label.startswith("Step 2 · revision 1, lines")
    html = page(client, author, plan).content.decode()
    assert "Outdated" in html and "have changed since revision 1" in html
    # The earlier revision still shows both in place.
    old = page(client, author, plan, "?revision=1").context["page"]
    assert sum(len(threads) for _block, threads in old.blocks) == 2


def test_a_draft_never_submitted_has_a_general_conversation_only(client, author, reviewer):
    plan = ready_plan(author=author)
    with pytest.raises(ValidationError, match="no revision yet, so no lines"):
        services.comment_post(actor=reviewer, plan=plan, body="x", line_from=3)
    comment = services.comment_post(actor=reviewer, plan=plan, body="Early thought",
                                    section="Problem Statement")
    assert comment.revision is None and comment.line_from is None  # nothing to anchor on yet
    assert comment.section == "Problem Statement"
    on_step = services.comment_post(actor=reviewer, plan=plan, body="x", step=plan.steps.get())
    assert on_step.step == plan.steps.get() and on_step.line_from is None
    html = page(client, author, plan).content.decode()
    assert 'id="cv-document"' not in html and "Early thought" in html
    assert "comments are on the plan as a whole until its first revision" in html


def test_template_furniture_is_not_part_of_the_conversation(client, author):
    plan = two_step_plan(author)
    html = page(client, author, plan).content.decode()
    document = html[html.index('id="cv-document"'):html.index("</article>")]
    assert "Status: PENDING_REVIEW" not in document and "[Name]" not in document
    assert "Review Checklist" not in document and "Approval" not in document
    assert "Logins are slow under load." in document


# --- threads: replies, resolving, reopening -------------------------------------------------------
def test_replies_join_the_thread_and_resolving_is_for_author_and_reviewers(author, reviewer):
    plan = two_step_plan(author)
    coauthor = AuthorFactory(username="cora")
    PlanEditor.objects.create(plan=plan, user=coauthor)
    root = services.comment_post(actor=reviewer, plan=plan, body="Why?", step_number=2)
    reply = services.comment_post(actor=author, plan=plan, body="Because.", parent=root)
    nested = services.comment_post(actor=reviewer, plan=plan, body="Fine.", parent=reply)
    assert reply.parent == root and nested.parent == root  # one thread, not a tree
    for outsider in (AuthorFactory(username="olga"), AdminFactory(username="ada")):
        with pytest.raises(NotAllowed):
            services.thread_resolve(actor=outsider, comment=root)
    with pytest.raises(ValidationError, match="first comment"):
        services.thread_resolve(actor=author, comment=reply)
    for resolver in (author, coauthor, reviewer, ReviewerFactory(username="rita")):
        services.thread_resolve(actor=resolver, comment=root)
        root.refresh_from_db()
        assert root.is_resolved and root.resolved_by == resolver
        with pytest.raises(Conflict, match="already resolved"):
            services.thread_resolve(actor=resolver, comment=root)
        services.thread_reopen(actor=resolver, comment=root)
        root.refresh_from_db()
        assert not root.is_resolved and root.resolved_by is None
    with pytest.raises(Conflict, match="already open"):
        services.thread_reopen(actor=author, comment=root)
    assert actions(plan).count("comment.resolved") == 4
    assert actions(plan).count("comment.reopened") == 4


def test_who_may_comment(author, reviewer):
    plan = two_step_plan(author)
    gone = AuthorFactory(username="gone", is_active=False)
    with pytest.raises(NotAllowed):
        services.comment_post(actor=gone, plan=plan, body="x")
    other = AuthorFactory(username="olga")  # every signed-in user may read every plan
    root = services.comment_post(actor=other, plan=plan, body="Looks fine to me.")
    services.comment_post(actor=author, plan=plan, body="Thanks", parent=root)
    with pytest.raises(ValidationError, match="same plan"):
        services.comment_post(actor=author, plan=two_step_plan(author), body="x", parent=root)
    with pytest.raises(ValidationError, match="Write a comment"):
        services.comment_post(actor=author, plan=plan, body="   ")


# --- editing --------------------------------------------------------------------------------------
def test_only_its_author_edits_a_comment_within_15_minutes_and_history_is_kept(client, author,
                                                                              reviewer):
    plan = two_step_plan(author)
    comment = services.comment_post(actor=reviewer, plan=plan, body="Typo: Rdis", step_number=2)
    with pytest.raises(NotAllowed):
        services.comment_edit(actor=author, comment=comment, body="Hijacked")
    services.comment_edit(actor=reviewer, comment=comment, body="Typo: Redis")
    services.comment_edit(actor=reviewer, comment=comment, body="Why Redis?")
    comment.refresh_from_db()
    assert comment.body == "Why Redis?" and comment.edited_at is not None
    assert list(comment.edits.values_list("body", flat=True)) == ["Typo: Rdis", "Typo: Redis"]
    first = comment.edits.first()
    assert first.written_at == comment.created_at
    later = timezone.now() + timedelta(minutes=16)
    with pytest.raises(NotAllowed, match="within 15 minutes"):
        services.comment_edit(actor=reviewer, comment=comment, body="Too late", now=later)
    assert CommentEdit.objects.count() == 2
    html = page(client, author, plan).content.decode()
    assert "· edited" in html and "Earlier versions (2)" in html and "Typo: Rdis" in html
    assert actions(plan).count("comment.edited") == 2


def test_the_edit_form_is_shown_to_its_author_only_while_the_window_is_open(client, author,
                                                                           reviewer):
    plan = two_step_plan(author)
    comment = services.comment_post(actor=reviewer, plan=plan, body="Hm.")
    edit_url = f"/reviews/comments/{comment.pk}/edit/"
    assert edit_url in page(client, reviewer, plan).content.decode()
    assert edit_url not in page(client, author, plan).content.decode()
    # Sixteen minutes later (time passing is no write: the page's rows may come from the cache).
    later = timezone.now() + timedelta(minutes=16)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert edit_url not in page(client, reviewer, plan).content.decode()
        response = client.post(edit_url, {"body": "Late"})
    assert response.status_code == 403
    comment.refresh_from_db()
    assert comment.body == "Hm."


# --- mentions -------------------------------------------------------------------------------------
def test_mentions_notify_people_who_may_see_the_plan_once(author, reviewer,
                                                          django_capture_on_commit_callbacks):
    plan = two_step_plan(author)
    AuthorFactory(username="gone", is_active=False)
    olga = AuthorFactory(username="olga")
    with django_capture_on_commit_callbacks(execute=True):
        services.comment_post(actor=reviewer, plan=plan, step_number=2,
                              body="@olga, @alice: what of @gone and @nobody? cc @rob.")
    assert outbox("comment.mentioned") == ["alice", "olga"]  # not the inactive, nor oneself
    # The author was named: told once, as mentioned, not also as "someone commented".
    assert "alice" not in outbox("comment.posted")
    entry = AuditEntry.objects.filter(plan=plan, action="comment.mentioned").get()
    assert entry.payload["users"] == [author.username, olga.username]


def test_an_edit_notifies_only_the_newly_mentioned(author, reviewer,
                                                   django_capture_on_commit_callbacks):
    plan = two_step_plan(author)
    AuthorFactory(username="olga")
    AuthorFactory(username="pia")
    with django_capture_on_commit_callbacks(execute=True):
        comment = services.comment_post(actor=reviewer, plan=plan, body="@olga look")
        services.comment_edit(actor=reviewer, comment=comment, body="@olga and @pia look")
    rows = OutboxMessage.objects.filter(event="comment.mentioned")
    assert sorted(r.recipient.get_username() for r in rows if r.channel == "inbox") == [
        "olga", "pia"]


def test_removing_a_name_and_adding_it_back_does_not_notify_again(
        author, reviewer, django_capture_on_commit_callbacks):
    plan = two_step_plan(author)
    AuthorFactory(username="olga")
    with django_capture_on_commit_callbacks(execute=True):
        comment = services.comment_post(actor=reviewer, plan=plan, body="@olga look")
        services.comment_edit(actor=reviewer, comment=comment, body="look")
        services.comment_edit(actor=reviewer, comment=comment, body="@olga look again")
    assert outbox("comment.mentioned") == ["olga"]


def test_a_comment_mentions_at_most_twenty_people(author, reviewer):
    plan = two_step_plan(author)
    names = " ".join(f"@user{i}" for i in range(services.MAX_MENTIONS + 1))
    with pytest.raises(ValidationError, match="at most 20 people"):
        services.comment_post(actor=reviewer, plan=plan, body=names)
    assert not Comment.objects.exists()


def test_a_reply_notifies_everyone_in_the_thread(author, reviewer,
                                                 django_capture_on_commit_callbacks):
    plan = two_step_plan(author)
    olga, pia = AuthorFactory(username="olga"), AuthorFactory(username="pia")
    AuthorFactory(username="quinn")  # not in the thread: not told
    with django_capture_on_commit_callbacks(execute=True):
        root = services.comment_post(actor=olga, plan=plan, body="Is step 2 reversible?")
        services.comment_post(actor=pia, plan=plan, body="I think so.", parent=root)
        OutboxMessage.objects.all().delete()
        services.comment_post(actor=reviewer, plan=plan, body="It is not.", parent=root)
    assert outbox("comment.posted") == ["alice", "olga", "pia"]


# --- the decision in the conversation; the no-JS form ---------------------------------------------
def test_the_decision_comment_is_part_of_the_conversation(client, author, reviewer):
    plan = two_step_plan(author)
    services.comment_post(actor=reviewer, plan=plan, body="A general remark")
    review = services.review_start(actor=reviewer, plan=plan)
    services.review_decide(actor=reviewer, review=review, decision="NEEDS_REVISION",
                           comment="Split step 2 into copy and switch.")
    response = page(client, author, plan)
    general = response.context["page"].general
    assert [getattr(i, "decision", "thread") for i in general] == ["thread", "NEEDS_REVISION"]
    html = response.content.decode()
    side = html[html.index('class="comments cv-general"'):]
    assert "Split step 2 into copy and switch." in side and "Needs revision" in side


def test_without_javascript_the_line_links_fill_in_the_form_and_it_posts(client, author,
                                                                        reviewer):
    plan = two_step_plan(author)
    start, end = step_lines(plan, 2)
    html = page(client, reviewer, plan).content.decode()
    link = f"?revision=1&amp;line_from={start}&amp;line_to={start}#new-comment"
    assert link in html
    form = page(client, reviewer, plan, f"?revision=1&line_from={start}&line_to={end}")
    assert f'name="line_from" min="1" inputmode="numeric" value="{start}"' in (
        form.content.decode())
    response = client.post(f"/reviews/plan/{plan.pk}/comments/", {
        "body": "On step 2", "revision": 1, "line_from": start, "line_to": end,
        "section": "", "step": ""})
    comment = Comment.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"#thread-{comment.pk}")
    assert (comment.line_from, comment.line_to) == (start, end)
    # Reply, resolve and reopen are plain forms too.
    client.force_login(author)
    client.post(f"/reviews/comments/{comment.pk}/reply/", {"body": "Done in revision 2."})
    assert comment.replies.get().body == "Done in revision 2."
    client.post(f"/reviews/comments/{comment.pk}/resolve/")
    comment.refresh_from_db()
    assert comment.is_resolved
    html = page(client, author, plan).content.decode()
    assert f"/reviews/comments/{comment.pk}/reopen/" in html and "Resolved" in html
    client.post(f"/reviews/comments/{comment.pk}/reopen/")
    comment.refresh_from_db()
    assert not comment.is_resolved


def test_a_bad_line_range_in_the_form_is_a_message_not_a_500(client, author, reviewer):
    plan = two_step_plan(author)
    client.force_login(reviewer)
    response = client.post(f"/reviews/plan/{plan.pk}/comments/",
                           {"body": "x", "line_from": 9000, "line_to": 9001}, follow=True)
    assert response.status_code == 200
    assert "Choose lines between 1 and" in response.content.decode()
    assert not Comment.objects.exists()


def test_unicode_digits_in_the_query_are_ignored_not_a_500(client, author, reviewer):
    plan = two_step_plan(author)
    client.force_login(reviewer)
    for query in ({"revision": "²"}, {"line_from": "²", "line_to": "3"}):
        assert client.get(f"/reviews/plan/{plan.pk}/comments/", query).status_code == 200


# --- a constant number of queries ----------------------------------------------------------------
def _grow(plan, author, reviewer, threads: int):
    for i in range(threads):
        root = services.comment_post(actor=reviewer, plan=plan, body=f"Thread {i} @alice",
                                     step_number=1 + i % 2)
        reply = services.comment_post(actor=author, plan=plan, body=f"Reply {i}", parent=root)
        services.comment_edit(actor=author, comment=reply, body=f"Reply {i}, edited")
        if i % 3 == 0:
            services.thread_resolve(actor=author, comment=root)


@pytest.mark.parametrize("threads", [1, 30])
def test_the_page_does_a_fixed_number_of_queries(client, author, reviewer, threads,
                                                 django_assert_num_queries):
    plan = two_step_plan(author)
    _grow(plan, author, reviewer, threads)
    plan = resubmit(plan, author, "Point reads at it", "Point reads elsewhere")  # outdated ones
    review = services.review_start(actor=reviewer, plan=plan)
    services.review_decide(actor=reviewer, review=review, decision="NEEDS_REVISION",
                           comment="Decided.")
    client.force_login(reviewer)
    url = f"/reviews/plan/{plan.pk}/comments/"
    client.get(url)  # the page's rows are cached from here on, until the next write
    with django_assert_num_queries(QUERIES):
        body = client.get(url).content.decode()
    assert f"Thread {threads - 1}" in body and "Decided." in body
    cache.clear()  # read afresh: as many queries with 1 thread as with 30
    with django_assert_num_queries(QUERIES_UNCACHED):
        fresh = client.get(url).content.decode()
    assert _unsalted(fresh) == _unsalted(body)  # the same page, the cache or not


def _unsalted(page: str) -> str:
    """The page without what differs on every request (CSRF tokens, CSP nonces)."""
    page = re.sub(r'"X-CSRFToken": "[^"]*"', "", page)
    return re.sub(r'(name="csrfmiddlewaretoken" value|nonce)="[^"]*"', r"\1", page)


#: Session, user, the data version (the page's rows, the plan among them, are cached under
#: it), the viewer's groups (may they resolve threads).
QUERIES = 4
#: And without the cache: the plan, revision numbers, the revision shown, comments (with
#: authors and their anchors' revisions), their edits, the decided reviews, the plan's
#: editors, the layout's unread-notification badge.
QUERIES_UNCACHED = 12
