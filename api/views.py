"""The REST API, one view per resource and action: validate with an input serializer, call the
service the browser uses (plans.services, reviews.services), answer with an output serializer.
Domain errors become problem details in api/errors.py; reads follow plans.permissions.can_view.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.http import parse_etags
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from core.errors import Conflict
from plans import permissions as plan_permissions
from plans import selectors as plan_selectors
from plans import services as plan_services
from plans.exports import export_disposition
from plans.markdown import export_plan
from plans.models import Plan, PlanStatus, status_phrase
from reviews import services as review_services
from reviews.models import Comment, Concern, Review

from . import presenters
from . import serializers as s
from .base import ApiView
from .media import MarkdownRenderer

NO_SUCH_PLAN = "No such plan."


def plan_or_404(pk: int, queryset=None) -> Plan:
    """The plan, or a 404 that says so in words (every plan endpoint answers alike)."""
    try:
        return (queryset if queryset is not None else Plan.objects).get(pk=pk)
    except Plan.DoesNotExist:
        raise Http404(NO_SUCH_PLAN) from None


def _viewable_plan(request, pk: int, queryset=None) -> Plan:
    plan = plan_or_404(pk, queryset)
    if not plan_permissions.can_view(plan, request.user):
        raise PermissionDenied("You cannot see this plan.")
    return plan


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _plan_response(request, pk: int, status_code=status.HTTP_200_OK, *,
                   etag: str | None = None) -> Response:
    # The validator is read before the data: a change committed in between then gives newer
    # data under an older validator (the next poll fetches again), never older data under the
    # newer one, which every later poll would be answered 304 for (a waiting agent stuck).
    etag = etag or presenters.plan_etag(pk)
    return Response(s.PlanOut(presenters.plan_data(pk, request)).data, status=status_code,
                    headers={"ETag": etag})


def _steps(steps: list[dict] | None) -> list[dict] | None:
    """The editor's step dicts from the JSON ones (actions and files as pairs)."""
    if steps is None:
        return None
    return [{**step, "actions": [(a["text"], a["done"]) for a in step["actions"]],
             "files": [(f["path"], f["description"]) for f in step["files"]]}
            for step in steps]


def _criteria(items: list[dict] | None) -> list | None:
    return None if items is None else [(c["text"], c["done"]) for c in items]


def _fields(data: dict) -> dict:
    """Scalar fields for plans.services: prose sections by key, beside title and the rest."""
    fields = {key: data[key] for key in ("title", "created_on", "review_checklist") if key in data}
    return {**data.get("sections", {}), **fields}


def _editable_state(plan: Plan, actor) -> None:
    """A write that needs an editable plan is a 409 (stale state) when the plan is under review
    or decided, as the contract says; who may write is then the service's check (403)."""
    if not plan.is_editable:
        raise Conflict(plan_services.edit_refusal_reason(plan, actor))


# --- plans ----------------------------------------------------------------------------------------
class PlanListView(ApiView):
    takes_markdown = True

    @extend_schema(operation_id="plans_list", parameters=[s.PlanFilterIn],
                   responses=s.PlanPageOut,
                   summary="List plans (newest first), filtered by status, author or mine")
    def get(self, request):
        filters = _valid(s.PlanFilterIn, request.query_params)
        plans = plan_selectors.plan_list(
            user=request.user, mine=filters["mine"], status=filters.get("status", ""),
            author=filters.get("author", ""), q=filters.get("q", ""),
        )
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(plans, request, view=self)
        visible = [p for p in page if plan_permissions.can_view(p, request.user)]
        return Response(s.PlanPageOut({
            "count": paginator.page.paginator.count, "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "results": [presenters.plan_summary(p, request) for p in visible],
        }).data)

    @extend_schema(request=s.PlanCreateIn, responses={201: s.PlanOut},
                   summary="Create a draft plan from Markdown or from structured fields")
    def post(self, request):
        if not (isinstance(request.data, dict) and "markdown" in request.data):
            self.check_ordinary_body(request)  # structured fields: the ordinary body limit
        data = _valid(s.PlanCreateIn, request.data)
        if "markdown" in data:
            plan = plan_services.plan_import_markdown(actor=request.user, text=data["markdown"])
        else:
            plan = plan_services.plan_create(
                actor=request.user, steps=_steps(data.get("steps")),
                success_criteria=_criteria(data.get("success_criteria")), **_fields(data),
            )
        return _plan_response(request, plan.pk, status.HTTP_201_CREATED)


class PlanDetailView(ApiView):
    @extend_schema(
        operation_id="plan_retrieve",
        responses={200: s.PlanOut, 304: OpenApiResponse(description="Not modified")},
        parameters=[OpenApiParameter("If-None-Match", str, OpenApiParameter.HEADER,
                                     description="The ETag of a previous answer.")],
        summary="A plan: state, current revision and its SHA-256, approved hash, steps",
    )
    def get(self, request, pk: int):
        """Waiting clients poll this with If-None-Match: an unchanged plan costs one small
        query (the ETag's) and answers 304 with no body."""
        etag = presenters.plan_etag(pk)
        if etag is None:
            raise Http404(NO_SUCH_PLAN)
        _viewable_plan(request, pk, Plan.objects.only("id", "author_id", "status"))
        wanted = parse_etags(request.headers.get("If-None-Match", ""))
        if etag in wanted or "*" in wanted:
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        return _plan_response(request, pk, etag=etag)

    @extend_schema(request=s.PlanUpdateIn, responses=s.PlanOut,
                   summary="Update a draft (or a plan sent back) from structured fields")
    def patch(self, request, pk: int):
        plan = plan_or_404(pk)
        data = _valid(s.PlanUpdateIn, request.data)
        _editable_state(plan, request.user)
        plan_services.plan_update(
            actor=request.user, plan=plan, fields=_fields(data), steps=_steps(data.get("steps")),
            success_criteria=_criteria(data.get("success_criteria")),
            expected_updated_at=data.get("expected_updated_at"),
        )
        return _plan_response(request, pk)


class PlanReviseView(ApiView):
    takes_markdown = True

    @extend_schema(request=s.MarkdownIn, responses=s.PlanOut,
                   summary="Replace a draft's (or sent-back plan's) content with new Markdown")
    def post(self, request, pk: int):
        plan = plan_or_404(pk)
        data = _valid(s.MarkdownIn, request.data)
        _editable_state(plan, request.user)
        plan_services.plan_import_markdown(actor=request.user, text=data["markdown"], plan=plan)
        return _plan_response(request, pk)


class PlanSubmitView(ApiView):
    @extend_schema(request=None, responses=s.PlanSubmitOut,
                   summary="Submit for review (409 if already under review or decided)")
    def post(self, request, pk: int):
        plan = plan_or_404(pk)
        _editable_state(plan, request.user)
        revision = plan_services.plan_submit(actor=request.user, plan=plan)
        response = _plan_response(request, pk)
        response.data["unchanged"] = plan_selectors.same_text_as_previous(revision)
        return response


class PlanWithdrawView(ApiView):
    @extend_schema(request=None, responses=s.PlanOut,
                   summary="Withdraw a plan under review back to draft")
    def post(self, request, pk: int):
        plan = plan_or_404(pk)
        if plan.status != PlanStatus.PENDING_REVIEW:
            raise Conflict(f"This plan {status_phrase(plan.status)}, not under review: "
                           "there is nothing to withdraw.")
        plan_services.plan_withdraw(actor=request.user, plan=plan)
        return _plan_response(request, pk)


class PlanMarkdownView(ApiView):
    renderer_classes = [MarkdownRenderer, JSONRenderer]

    @extend_schema(responses={(200, "text/markdown"): OpenApiTypes.STR},
                   summary="The plan as Markdown in the template's format")
    def get(self, request, pk: int):
        _viewable_plan(request, pk)
        plan = plan_selectors.plan_with_content(pk)
        response = Response(export_plan(plan), content_type="text/markdown; charset=utf-8")
        response["Content-Disposition"] = export_disposition(plan)  # the web export's name
        return response


class PlanFeedbackView(ApiView):
    @extend_schema(responses=s.FeedbackOut,
                   summary="Decisions, anchored comments, concerns and “No” answers (+Markdown)")
    def get(self, request, pk: int):
        plan = _viewable_plan(request, pk)
        return Response(s.FeedbackOut(presenters.feedback_data(plan)).data)


# --- reviews --------------------------------------------------------------------------------------
class PlanReviewsView(ApiView):
    @extend_schema(responses=s.ReviewOut(many=True), summary="The plan's reviews")
    def get(self, request, pk: int):
        plan = _viewable_plan(request, pk)
        ids = Review.objects.filter(plan=plan).order_by("revision__number", "created_at", "id")
        data = [presenters.review_data(pk) for pk in ids.values_list("pk", flat=True)]
        return Response(s.ReviewOut(data, many=True).data)

    @extend_schema(request=None, responses={201: s.ReviewOut},
                   summary="Start (or return) my review of the current revision")
    def post(self, request, pk: int):
        plan = plan_or_404(pk)
        review = review_services.review_start(actor=request.user, plan=plan)
        return Response(s.ReviewOut(presenters.review_data(review.pk)).data,
                        status=status.HTTP_201_CREATED)


class ReviewDetailView(ApiView):
    @extend_schema(responses=s.ReviewOut, summary="A review: checklist, answers and decision")
    def get(self, request, pk: int):
        review = get_object_or_404(Review, pk=pk)
        _viewable_plan(request, review.plan_id)
        return Response(s.ReviewOut(presenters.review_data(pk)).data)


class ReviewAnswerView(ApiView):
    @extend_schema(request=s.AnswerIn, responses=s.ReviewOut,
                   summary="Answer one checklist item (yes, no or na, with a note)")
    def post(self, request, pk: int):
        review = get_object_or_404(Review, pk=pk)
        data = _valid(s.AnswerIn, request.data)
        review_services.review_answer(actor=request.user, review=review, item=data["item"],
                                      answer=data["answer"], note=data["note"],
                                      expected_revision=data.get("revision"))
        return Response(s.ReviewOut(presenters.review_data(pk)).data)


class ReviewDecisionView(ApiView):
    @extend_schema(request=s.DecisionIn, responses=s.ReviewOut,
                   summary="Decide: APPROVED, NEEDS_REVISION or REJECTED (final)")
    def post(self, request, pk: int):
        review = get_object_or_404(Review, pk=pk)
        data = _valid(s.DecisionIn, request.data)
        review_services.review_decide(actor=request.user, review=review,
                                      decision=data["decision"], comment=data["comment"],
                                      expected_revision=data.get("revision"))
        return Response(s.ReviewOut(presenters.review_data(pk)).data)


# --- comments and concerns ------------------------------------------------------------------------
def _feedback_item(plan: Plan, kind: str, pk: int) -> dict:
    return next(item for item in presenters.feedback_data(plan)[kind] if item["id"] == pk)


class PlanCommentsView(ApiView):
    @extend_schema(responses=s.CommentOut(many=True),
                   summary="The plan's comments, each with its section or step")
    def get(self, request, pk: int):
        plan = _viewable_plan(request, pk)
        return Response(s.CommentOut(presenters.feedback_data(plan)["comments"], many=True).data)

    @extend_schema(request=s.CommentIn, responses={201: s.CommentOut},
                   summary="Comment, optionally anchored to a section or a step, or reply")
    def post(self, request, pk: int):
        plan = _viewable_plan(request, pk)
        data = _valid(s.CommentIn, request.data)
        parent = None
        if data.get("parent"):
            parent = Comment.objects.filter(pk=data["parent"]).first()
            if parent is None:
                raise Http404("No such comment to reply to.")
        comment = review_services.comment_post(
            actor=request.user, plan=plan, body=data["body"], parent=parent,
            section=data["section"], step=data.get("step"), step_number=data.get("step_number"),
            revision=data.get("revision"), line_from=data.get("line_from"),
            line_to=data.get("line_to"),
        )
        return Response(s.CommentOut(_feedback_item(plan, "comments", comment.pk)).data,
                        status=status.HTTP_201_CREATED)


def _comment_response(comment: Comment) -> Response:
    plan = Plan.objects.get(pk=comment.plan_id)
    return Response(s.CommentOut(_feedback_item(plan, "comments", comment.pk)).data)


class CommentEditView(ApiView):
    @extend_schema(request=s.CommentEditIn, responses=s.CommentOut,
                   summary="Edit my comment (within 15 minutes of posting; the earlier text is "
                           "kept)")
    def post(self, request, pk: int):
        comment = get_object_or_404(Comment, pk=pk)
        data = _valid(s.CommentEditIn, request.data)
        comment = review_services.comment_edit(actor=request.user, comment=comment,
                                               body=data["body"])
        return _comment_response(comment)


class ThreadResolveView(ApiView):
    @extend_schema(request=None, responses=s.CommentOut,
                   summary="Resolve a thread (the plan's author or a reviewer)")
    def post(self, request, pk: int):
        comment = get_object_or_404(Comment, pk=pk)
        return _comment_response(review_services.thread_resolve(actor=request.user,
                                                                comment=comment))


class ThreadReopenView(ApiView):
    @extend_schema(request=None, responses=s.CommentOut,
                   summary="Reopen a resolved thread (the plan's author or a reviewer)")
    def post(self, request, pk: int):
        comment = get_object_or_404(Comment, pk=pk)
        return _comment_response(review_services.thread_reopen(actor=request.user,
                                                               comment=comment))


class PlanConcernsView(ApiView):
    @extend_schema(responses=s.ConcernOut(many=True), summary="The plan's blocking concerns")
    def get(self, request, pk: int):
        plan = _viewable_plan(request, pk)
        return Response(s.ConcernOut(presenters.feedback_data(plan)["concerns"], many=True).data)

    @extend_schema(request=s.ConcernIn, responses={201: s.ConcernOut},
                   summary="Raise a blocking concern (reviewers of the plan, admins)")
    def post(self, request, pk: int):
        plan = plan_or_404(pk)
        data = _valid(s.ConcernIn, request.data)
        concern = review_services.concern_raise(actor=request.user, plan=plan, **data)
        return Response(s.ConcernOut(_feedback_item(plan, "concerns", concern.pk)).data,
                        status=status.HTTP_201_CREATED)


class ConcernResolveView(ApiView):
    @extend_schema(request=None, responses=s.ConcernOut,
                   summary="Resolve a concern (its raiser, or an admin)")
    def post(self, request, pk: int):
        concern = get_object_or_404(Concern, pk=pk)
        review_services.concern_resolve(actor=request.user, concern=concern)
        plan = Plan.objects.get(pk=concern.plan_id)
        return Response(s.ConcernOut(_feedback_item(plan, "concerns", concern.pk)).data)


# --- binding: is exactly this text approved? ------------------------------------------------------
class VerifyView(ApiView):
    takes_markdown = True

    @extend_schema(request=s.VerifyIn, responses=s.VerifyOut,
                   summary="Is exactly this text approved? By whom, when, under which policy")
    def post(self, request):
        data = _valid(s.VerifyIn, request.data)
        return Response(s.VerifyOut(presenters.verify_text(data["markdown"],
                                                           data.get("plan"))).data)


class ApprovalView(ApiView):
    @extend_schema(responses=s.VerifyOut,
                   summary="The approval state of the text with this SHA-256")
    def get(self, request, sha256: str):
        data = _valid(s.Sha256In, {"sha256": sha256})
        return Response(s.VerifyOut(presenters.verify_hash(data["sha256"])).data)


class NotFoundView(ApiView):
    """Any other path under /api/v1/: a 404 problem, not the site's HTML page."""

    permission_classes = [AllowAny]
    schema = None

    def get(self, request, *args, **kwargs):
        raise Http404("No such API endpoint.")

    post = put = patch = delete = get
