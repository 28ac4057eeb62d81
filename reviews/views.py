"""Thin views over reviews/services.py; domain errors are answered by core.http.service_errors
(a flash message and a redirect back in the browser, the plain message for htmx, 403 page)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit import selectors as audit_selectors
from audit.views import admin_required
from core.errors import ValidationError
from core.http import service_errors
from plans import permissions as plan_permissions
from plans import services as plan_services
from plans.models import Plan
from plans.rendering import revision_html

from . import selectors, services
from .certificate import Certificate, approval_certificate
from .forms import SECTION_LABELS, AnswerForm, CommentForm, ConcernForm, DecisionForm, RequestForm
from .models import ChecklistItem, Comment, Concern, Review


def _plan_url(request, plan_id, **_):
    return reverse("plans:detail", args=[plan_id])


def _review_url(request, pk, **_):
    return reverse("reviews:review", args=[pk])


def _concern_back(request, pk, **_):
    plan_id = Concern.objects.filter(pk=pk).values_list("plan_id", flat=True).first()
    return reverse("plans:detail", args=[plan_id]) if plan_id else "/"


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
    revision = plan_services.plan_submit(actor=request.user, plan=plan)
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
    services.review_request(actor=request.user, plan=plan, users=form.cleaned_data["users"],
                            groups=[group] if group else [])
    messages.success(request, "Review requested.")
    return redirect(plan)


# --- reviews ------------------------------------------------------------------------------------
@require_POST
@service_errors(_plan_url)
def review_start(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = get_object_or_404(Plan, pk=plan_id)
    review = services.review_start(actor=request.user, plan=plan)
    return redirect("reviews:review", review.pk)


@require_GET
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    page = selectors.review_page(pk, request.user)
    return render(request, "reviews/review.html", {
        "page": page, "review": page.review, "plan": page.plan,
        "plan_html": revision_html(page.revision),  # cached per content hash
        "decision_form": DecisionForm(initial={"revision": page.revision.number}),
        "concern_form": ConcernForm(), "sections": SECTION_LABELS,
    })  # fmt: skip


@require_POST
@service_errors(_review_url)
def review_answer(request: HttpRequest, pk: int) -> HttpResponse:
    review = get_object_or_404(Review, pk=pk)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        raise ValidationError("Answer yes, no or N/A for a checklist item.")
    row = services.review_answer(
        actor=request.user, review=review, item=form.cleaned_data["item"],
        answer=form.cleaned_data["answer"], note=form.cleaned_data["note"],
        expected_revision=form.cleaned_data["revision"],
    )
    if request.htmx:
        item = ChecklistItem.objects.get(pk=row.item_id)
        return render(request, "reviews/includes/answer_row.html", {
            "item": item, "answer": row, "review": review, "can_answer": True,
            "revision": review.revision.number, "saved": True,
        })  # fmt: skip
    return redirect("reviews:review", review.pk)


@require_POST
@service_errors(_review_url)
def review_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Browser form and htmx: POST decision, comment, revision (the number seen)."""
    review = get_object_or_404(Review, pk=pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        raise ValidationError("Choose approve, needs revision or reject.")
    review = services.review_decide(
        actor=request.user, review=review, decision=form.cleaned_data["decision"],
        comment=form.cleaned_data["comment"], expected_revision=form.cleaned_data["revision"],
    )
    review.plan.refresh_from_db(fields=["status"])
    messages.success(request, f"Decision recorded: {review.get_decision_display()}. "
                              f"The plan is {review.plan.get_status_display().lower()}.")
    return redirect("reviews:review", review.pk)


# --- concerns and comments ------------------------------------------------------------------------
@require_POST
@service_errors(_plan_url)
def concern_raise(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = get_object_or_404(Plan, pk=plan_id)
    form = ConcernForm(request.POST)
    if not form.is_valid():
        raise ValidationError("Name the concern.")
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


@require_http_methods(["GET", "POST"])
@service_errors(_comments_url)
def comments(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = selectors.plan_for_reviews(plan_id)
    form = CommentForm(request.POST or None)
    if request.method == "POST":
        if not form.is_valid():
            raise ValidationError("Write a comment.")
        parent_id = form.cleaned_data["parent"]
        parent = get_object_or_404(Comment, pk=parent_id) if parent_id else None
        services.comment_post(
            actor=request.user, plan=plan, body=form.cleaned_data["body"], parent=parent,
            section=form.cleaned_data["section"], step=form.cleaned_data["step"],
        )
        messages.success(request, "Comment posted.")
        return redirect("reviews:comments", plan.pk)
    threads = selectors.comment_threads(plan)
    return render(request, "reviews/comments.html", {
        "plan": plan, "comments": selectors.flat_threads(threads), "form": form,
        "sections": SECTION_LABELS,
        "steps": list(plan.steps.only("id", "plan_id", "title", "position")),
    })  # fmt: skip


# --- the plan's record: audit timeline (admins) and approval certificate (everyone) ---------------
@require_GET
@admin_required
def plan_timeline(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = Plan.objects.filter(pk=plan_id).first()  # the plan may have been deleted since
    entries = list(audit_selectors.plan_timeline(plan_id))
    if plan is None and not entries:
        raise Http404("No such plan and no audit entries for it.")
    return render(request, "reviews/plan_timeline.html", {
        "plan": plan, "plan_id": plan_id, "entries": entries,
    })  # fmt: skip


def _certificate_or_404(request: HttpRequest, plan_id: int) -> Certificate:
    """Every signed-in user who may see the plan sees its certificate: approvals are not
    secret, and authors need to show them."""
    plan = get_object_or_404(Plan.objects.select_related("author"), pk=plan_id)
    if not plan_permissions.can_view(plan, request.user):
        raise PermissionDenied("You cannot see this plan.")
    certificate = approval_certificate(plan)
    if certificate is None:
        raise Http404("This plan is not approved, so it has no approval certificate.")
    return certificate


@require_GET
def certificate(request: HttpRequest, plan_id: int) -> HttpResponse:
    return render(request, "reviews/certificate.html", {
        "certificate": _certificate_or_404(request, plan_id),
    })  # fmt: skip


@require_GET
def certificate_markdown(request: HttpRequest, plan_id: int) -> HttpResponse:
    cert = _certificate_or_404(request, plan_id)
    text = render_to_string("reviews/certificate.md", {"certificate": cert}, request=request)
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="plan-{plan_id}-approval.md"'
    return response
