"""Thin views over reviews/services.py; domain errors are answered by core.http.service_errors
(a flash message and a redirect back in the browser, the plain message for htmx, 403 page)."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit import selectors as audit_selectors
from audit.selectors import data_version_of, with_data_version
from audit.views import admin_required
from core.errors import Conflict, ValidationError
from core.http import service_errors
from notifications.context_processors import layout_cache_keys
from plans import permissions as plan_permissions
from plans import selectors as plan_selectors
from plans import services as plan_services
from plans.models import Plan, PlanStatus, PlanStep, RiskLevel, status_phrase

from . import conversation, permissions, policy, selectors, services
from .certificate import Certificate, approval_certificate, approval_sections
from .forms import (
    MAX_ID,
    AnswerForm,
    CommentBodyForm,
    CommentForm,
    ConcernForm,
    DecisionForm,
    RequestForm,
)
from .models import Answer, ChecklistItem, Comment, Concern, Decision, Review


def _plan_url(request, plan_id, **_):
    return reverse("plans:detail", args=[plan_id])


def _review_url(request, pk, **_):
    return reverse("reviews:review", args=[pk])


def _concern_back(request, pk, **_):
    plan_id = Concern.objects.filter(pk=pk).values_list("plan_id", flat=True).first()
    return reverse("plans:detail", args=[plan_id]) if plan_id else "/"


def _form_errors(form) -> str:
    """A refused form's errors in one message, each field's own (they name the problem), each
    said once (an answer with neither item nor choice is one problem)."""
    return " ".join(dict.fromkeys(e for errors in form.errors.values() for e in errors))


def _next_url(request: HttpRequest, default: str) -> str:
    """The form's `next` when it points back into this site; otherwise `default`."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()},
                                                   require_https=request.is_secure()):
        return target
    return default


# --- transitions the author makes -----------------------------------------------------------------
@require_POST
@service_errors(_plan_url)
def plan_submit(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = get_object_or_404(Plan, pk=plan_id)
    sent_back = plan.status == PlanStatus.NEEDS_REVISION
    revision = plan_services.plan_submit(actor=request.user, plan=plan)
    if sent_back and plan_selectors.same_text_as_previous(revision):
        # Allowed (the author may answer in a comment), but the reviewers will see nothing new.
        messages.success(request, f"Resubmitted unchanged: reviewers see the same text as "
                                  f"revision {revision.number - 1}, which was sent back. Say "
                                  "why in a comment.")
        return redirect(plan)
    messages.success(request, f"Submitted for review as revision {revision.number}.")
    return redirect(plan)


@require_POST
@service_errors(_plan_url)
def plan_withdraw(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = get_object_or_404(Plan, pk=plan_id)
    plan_services.plan_withdraw(actor=request.user, plan=plan)
    messages.success(request, "Withdrawn from review; the plan is a draft again.")
    return redirect(plan)


@require_POST
@service_errors(_plan_url)
def request_reviewers(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = get_object_or_404(Plan, pk=plan_id)
    form = RequestForm(request.POST)
    if not form.is_valid():
        raise ValidationError(" ".join(e for errs in form.errors.values() for e in errs))
    group = form.cleaned_data.get("group")
    created = services.review_request(actor=request.user, plan=plan,
                                      users=form.cleaned_data["users"],
                                      groups=[group] if group else [])
    if created:
        messages.success(request, "Review requested.")
    else:
        messages.info(request, "Already requested: no one new was asked or notified.")
    return redirect(plan)


# --- reviews ------------------------------------------------------------------------------------
@require_POST
@service_errors(_plan_url)
def review_start(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = get_object_or_404(Plan, pk=plan_id)
    review = services.review_start(actor=request.user, plan=plan)
    return redirect("reviews:review", review.pk)


#: How many of the items an approval still needs the refusal names (then "and N more").
REFUSAL_ITEMS = 5


def _approval_refusal(page, form: DecisionForm) -> list:
    """A refused approval, as the decision card shows it: a one-line summary (the form's
    error) and the items still in the way, each a link to its row in the checklist."""
    missing = [(item, services.UNANSWERED if answer is None else services.ANSWERED_NO)
               for _group, rows in page.groups for item, answer in rows
               if answer is None or answer.answer == Answer.NO]
    form.add_error(None, services.approval_refusal(missing, page.total, named=0))
    return missing


def _review_page(request: HttpRequest, pk: int, decision_form: DecisionForm | None = None,
                 status: int = 200, approval_refused: bool = False) -> HttpResponse:
    page = selectors.review_page(pk, request.user)
    missing = _approval_refusal(page, decision_form) if approval_refused else []
    return render(request, "reviews/review.html", {
        "page": page, "review": page.review, "plan": page.plan,
        "plan_html": page.plan_html,
        # Bound only when a refused decision is shown again; the template writes out the empty
        # form's inputs itself (cheaper than a widget template per input).
        "decision_form": decision_form or DecisionForm(initial={"revision": page.revision.number}),
        "decisions": Decision.choices,
        # The concern form's sections: the plan's as it stands (the service checks it on that).
        "sections": conversation.outline(page.revision if page.is_current else page.current)
                    .commentable if page.can_raise_concern else [],
        "missing": missing[:REFUSAL_ITEMS], "missing_more": len(missing[REFUSAL_ITEMS:]),
    }, status=status)  # fmt: skip


@require_GET
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Anyone who may read the plan reads its reviews: the author sees every answer and note."""
    return _review_page(request, pk)


@require_POST
@service_errors(_review_url)
def review_answer(request: HttpRequest, pk: int) -> HttpResponse:
    review = get_object_or_404(Review, pk=pk)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        raise ValidationError(_form_errors(form))
    row = services.review_answer(
        actor=request.user, review=review, item=form.cleaned_data["item"],
        answer=form.cleaned_data["answer"], note=form.cleaned_data["note"],
        expected_revision=form.cleaned_data["revision"],
    )
    if request.htmx:  # the row again, and the checklist's counters (out of band)
        item = ChecklistItem.objects.get(pk=row.item_id)
        if row.carried_from_id:
            selectors.label_carried(review, [row])
        return render(request, "reviews/includes/answer_row.html", {
            "rows": [(item, row)], "review": review, "can_answer": True,
            "revision": review.revision.number, "saved": True,
            "counts": selectors.checklist_counts(review),
        })  # fmt: skip
    return redirect(f"{reverse('reviews:review', args=[review.pk])}#item-{row.item_id}")


@require_POST
@service_errors(_review_url)
def review_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Browser form and htmx: POST decision, comment, revision (the number seen).

    A refusal the reviewer can fix (no comment, an item unanswered) shows the page again (400)
    with their choice and comment kept and the message beside them: the form posts to
    #decision, so the browser lands on the card, its error at the top; a refused approval
    names what is still in the way, each item a link to its row. A decision already made says
    just that, once. A recorded decision lands on the page's messages (#main: else the
    redirect would keep the form's #decision, and the message would be out of sight)."""
    review = get_object_or_404(Review, pk=pk)
    form = DecisionForm(request.POST)
    fixable = not request.htmx and permissions.owns_review(review, request.user)
    if not form.is_valid():
        if not fixable:
            raise ValidationError(_form_errors(form))
        return _review_page(request, pk, form, status=400)
    try:
        review = services.review_decide(
            actor=request.user, review=review, decision=form.cleaned_data["decision"],
            comment=form.cleaned_data["comment"], expected_revision=form.cleaned_data["revision"],
        )
    except ValidationError as exc:
        if not fixable:
            raise
        if getattr(exc, "code", None) == services.APPROVAL_INCOMPLETE:
            # Summarised from the page's own rows, each item a link to its row.
            return _review_page(request, pk, form, status=400, approval_refused=True)
        form.add_error(None, exc)
        return _review_page(request, pk, form, status=400)
    except Conflict as exc:
        if not fixable or str(exc) != services.ALREADY_DECIDED:
            raise
        review.refresh_from_db()
        messages.info(request, f"You already decided on this revision "
                               f"({review.get_decision_display()}); a decision is final.")
        return redirect(f"{reverse('reviews:review', args=[review.pk])}#main")
    # Read, not refresh_from_db(): django-fsm lifts the field's protection for the whole
    # class while it refreshes, so under a threaded server another request's refresh could
    # restore it mid-way and this one would fail (bench/faults.py found it).
    status = Plan.objects.filter(pk=review.plan_id).values_list("status", flat=True).get()
    waiting = ""
    if status == PlanStatus.PENDING_REVIEW and review.decision == Decision.APPROVED:
        # Approved, and yet under review: say what it waits for (an open concern, say).
        missing = policy.evaluate_plan(Plan.objects.get(pk=review.plan_id)).missing
        waiting = f" ({'; '.join(missing)})" if missing else ""
    messages.success(request, f"Decision recorded: {review.get_decision_display()}. "
                              f"The plan {status_phrase(status)}{waiting}.")
    return redirect(f"{reverse('reviews:review', args=[review.pk])}#main")


@require_POST
@service_errors(_plan_url)
def review_rerequest(request: HttpRequest, plan_id: int, user_id: int) -> HttpResponse:
    """The author asks a reviewer of an earlier revision to review the plan again."""
    plan = get_object_or_404(Plan, pk=plan_id)
    reviewer = get_object_or_404(get_user_model(), pk=user_id)
    services.review_rerequest(actor=request.user, plan=plan, reviewer=reviewer)
    messages.success(request, f"Asked {reviewer.get_full_name() or reviewer.get_username()} "
                              "to review this plan again.")
    return redirect(plan)


# --- concerns and comments ------------------------------------------------------------------------
def _concern_form_url(request, plan_id, **_):
    """Back to the page the concern form was on (the review page), where its error shows."""
    return _next_url(request, reverse("plans:detail", args=[plan_id]))


@require_POST
@service_errors(_concern_form_url)
def concern_raise(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = get_object_or_404(Plan, pk=plan_id)
    form = ConcernForm(request.POST)
    if not form.is_valid():
        raise ValidationError(_form_errors(form))
    services.concern_raise(actor=request.user, plan=plan, **form.cleaned_data)
    messages.success(request, "Concern raised; the plan cannot be approved while it is open.")
    return redirect(_next_url(request, plan.get_absolute_url()))


@require_POST
@service_errors(_concern_back)
def concern_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    concern = get_object_or_404(Concern, pk=pk)
    services.concern_resolve(actor=request.user, concern=concern)
    messages.success(request, f"Concern resolved: {concern.title}.")
    return redirect(_next_url(request, reverse("plans:detail", args=[concern.plan_id])))


def _comments_url(request, plan_id, **_):
    return reverse("reviews:comments", args=[plan_id])


def _comment_back(request, pk, **_):
    plan_id = Comment.objects.filter(pk=pk).values_list("plan_id", flat=True).first()
    return reverse("reviews:comments", args=[plan_id]) if plan_id else "/"


def _at_thread(comment: Comment) -> HttpResponse:
    thread = comment.parent_id or comment.pk
    url = reverse("reviews:comments", args=[comment.plan_id])
    return redirect(f"{url}?revision={comment.revision.number}#thread-{thread}"
                    if comment.revision_id and comment.parent_id is None
                    else f"{url}#thread-{thread}")


def _int_param(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "")
    # ASCII digits only: "²".isdigit() is true, but int("²") fails.
    return int(value) if re.fullmatch(r"[0-9]{1,6}", value) and int(value) > 0 else None


@require_http_methods(["GET", "POST"])
@service_errors(_comments_url)
def comments(request: HttpRequest, plan_id: int) -> HttpResponse:
    """The conversation: the revision's text in blocks one can comment on (by line range, step
    or section, as in a pull request), threads beside their lines, the general conversation.
    ``?revision=N`` shows another revision; ``?line_from=&line_to=`` (the line links, without
    JavaScript) fills in the new comment's lines."""
    if request.method == "GET":  # the page's rows (the plan too) may come from the cache
        page = selectors.conversation_page(
            plan_id, request.user, _int_param(request, "revision"), csrf_token=get_token(request),
            read_with=layout_cache_keys(request.user))
        plan = page.plan
    else:
        plan = selectors.plan_for_reviews(plan_id)
    if not plan_permissions.can_view(plan, request.user):
        raise PermissionDenied("You cannot see this plan.")
    form = CommentForm(request.POST or None)
    if request.method == "POST":
        if not form.is_valid():
            raise ValidationError(" ".join(e for errs in form.errors.values() for e in errs))
        data = form.cleaned_data
        parent = get_object_or_404(Comment, pk=data["parent"]) if data["parent"] else None
        comment = services.comment_post(
            actor=request.user, plan=plan, body=data["body"], parent=parent,
            section=data["section"], step_number=data["step"], revision=data["revision"],
            line_from=data["line_from"], line_to=data["line_to"],
        )
        messages.success(request, "Comment posted.")
        return _at_thread(comment)
    initial = {name: _int_param(request, name) for name in ("line_from", "line_to", "step")}
    initial["section"] = request.GET.get("section", "")[:100]
    return render(request, "reviews/conversation.html", {
        "plan": plan, "page": page, "initial": initial, "now": timezone.now(),
    })  # fmt: skip


@require_POST
@service_errors(_comment_back)
def comment_reply(request: HttpRequest, pk: int) -> HttpResponse:
    parent = get_object_or_404(Comment, pk=pk)
    form = CommentBodyForm(request.POST)
    if not form.is_valid():
        raise ValidationError("Write a reply.")
    comment = services.comment_post(actor=request.user, plan=parent.plan, parent=parent,
                                    body=form.cleaned_data["body"])
    messages.success(request, "Reply posted.")
    return _at_thread(comment)


@require_POST
@service_errors(_comment_back)
def comment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    comment = get_object_or_404(Comment, pk=pk)
    form = CommentBodyForm(request.POST)
    if not form.is_valid():
        raise ValidationError("Write a comment.")
    comment = services.comment_edit(actor=request.user, comment=comment,
                                    body=form.cleaned_data["body"])
    messages.success(request, "Comment edited.")
    return _at_thread(comment)


@require_POST
@service_errors(_comment_back)
def thread_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    comment = services.thread_resolve(actor=request.user,
                                      comment=get_object_or_404(Comment, pk=pk))
    messages.success(request, "Thread resolved.")
    return _at_thread(comment)


@require_POST
@service_errors(_comment_back)
def thread_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    comment = services.thread_reopen(actor=request.user,
                                     comment=get_object_or_404(Comment, pk=pk))
    messages.success(request, "Thread reopened.")
    return _at_thread(comment)


# --- the plan's record: audit timeline (admins) and approval certificate (everyone) ---------------
@require_GET
@admin_required
def plan_timeline(request: HttpRequest, plan_id: int) -> HttpResponse:
    if plan_id > MAX_ID:  # no plan, nor entry, has it (SQLite's driver cannot even send it)
        raise Http404("No such plan and no audit entries for it.")
    plan = Plan.objects.filter(pk=plan_id).first()  # the plan may have been deleted since
    entries = list(audit_selectors.plan_timeline(plan_id))
    if plan is None and not entries:
        raise Http404("No such plan and no audit entries for it.")
    return render(request, "reviews/plan_timeline.html", {
        "plan": plan, "plan_id": plan_id, "entries": entries,
    })  # fmt: skip


def _certificate_or_404(request: HttpRequest, plan_id: int, build=approval_certificate
                        ) -> Certificate:
    """Every signed-in user who may see the plan sees its certificate: approvals are not
    secret, and authors need to show them."""
    high_risk = PlanStep.objects.filter(plan=OuterRef("pk"), risk=RiskLevel.HIGH)
    plan = get_object_or_404(
        with_data_version(Plan.objects.select_related("author")
                                    .defer("author__password")
                                    .annotate(has_high_risk_step=Exists(high_risk))),
        pk=plan_id)
    if not plan_permissions.can_view(plan, request.user):
        raise PermissionDenied("You cannot see this plan.")
    certificate = build(plan)
    if certificate is None:
        raise Http404("This plan is not approved, so it has no approval certificate.")
    return certificate


def _page_certificate(plan: Plan) -> Certificate | None:
    certificate = approval_certificate(plan, answers=False)
    if certificate is not None:
        approval_sections(certificate.approvals)  # cached per decided review
    return certificate


@require_GET
def certificate(request: HttpRequest, plan_id: int) -> HttpResponse:
    """The certificate is read whole from the cache while no write committed since (its
    records, approvals and their sections: selectors.versioned under the data version)."""
    cert = _certificate_or_404(request, plan_id, lambda plan: selectors.versioned(
        f"reviews:certificate:{plan.pk}", data_version_of(plan),
        lambda: _page_certificate(plan), read_with=layout_cache_keys(request.user)))
    return render(request, "reviews/certificate.html", {"certificate": cert})


@require_GET
def certificate_markdown(request: HttpRequest, plan_id: int) -> HttpResponse:
    cert = _certificate_or_404(request, plan_id)
    text = render_to_string("reviews/certificate.md", {"certificate": cert}, request=request)
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="plan-{plan_id}-approval.md"'
    return response
