"""The API after approval: start and finish implementing, report progress, upload drift reports,
submit an amendment, verify. Each view validates with its input serializer and calls the service
the browser uses (implementation.services); errors are problem details like every other view."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from implementation import selectors
from implementation import services as impl
from implementation.models import Outcome
from plans.models import Plan

from .base import ApiView
from .fields import CommitField, InputSerializer, TextField
from .serializers import SHA256, MarkdownField, PlanOut
from .views import _plan_response, _valid, _viewable_plan, plan_or_404


# --- input ----------------------------------------------------------------------------------------
class ProgressIn(InputSerializer):
    step = serializers.IntegerField(min_value=1, help_text="The step's number (1-based).")
    action = serializers.IntegerField(min_value=1, required=False, allow_null=True,
                                      help_text="One action of the step (1-based); omit to "
                                                "mark the whole step done.")
    note = serializers.CharField(max_length=2000, allow_blank=True, default="")
    commit = CommitField(allow_blank=True, default="",
                         help_text="A git commit SHA (7 to 40 hex characters).")


class DriftIn(InputSerializer):
    files = serializers.ListField(child=serializers.CharField(max_length=1000), max_length=5000,
                                  allow_empty=True,
                                  help_text="Changed files, repository-relative (git diff "
                                            "--name-only).")
    base = serializers.CharField(max_length=255, allow_blank=True, default="")
    head = serializers.CharField(max_length=255, allow_blank=True, default="")
    head_commit = CommitField(allow_blank=True, default="")


class AmendIn(InputSerializer):
    markdown = MarkdownField(help_text="The amended plan: the whole plan as Markdown.")


class EvidenceIn(InputSerializer):
    criterion = serializers.IntegerField(min_value=1, help_text="1-based.")
    evidence = serializers.CharField(max_length=2000, help_text="A link or a note.")


class VerificationIn(InputSerializer):
    outcome = serializers.ChoiceField(choices=Outcome.values)
    comment = TextField(max_length=5000, allow_blank=True, default="")
    criteria = EvidenceIn(many=True, default=list,
                          help_text="Evidence for success criteria, ticked before deciding.")


# --- output ---------------------------------------------------------------------------------------
class ProgressOut(serializers.Serializer):
    id = serializers.IntegerField()
    step = serializers.IntegerField()
    step_title = serializers.CharField()
    action = serializers.IntegerField(allow_null=True)
    note = serializers.CharField()
    commit = serializers.CharField()
    reported_by = serializers.CharField()
    created_at = serializers.DateTimeField()


class StepProgressOut(serializers.Serializer):
    number = serializers.IntegerField()
    title = serializers.CharField()
    actions = serializers.IntegerField()
    actions_done = serializers.ListField(child=serializers.IntegerField())
    done = serializers.BooleanField()


class DriftOut(serializers.Serializer):
    id = serializers.IntegerField()
    clear = serializers.BooleanField(help_text="No changed file outside the approved plan.")
    revision = serializers.IntegerField(help_text="The approved revision compared with.")
    revision_sha256 = serializers.RegexField(SHA256)
    base = serializers.CharField()
    head = serializers.CharField()
    head_commit = serializers.CharField()
    changed = serializers.ListField(child=serializers.CharField())
    unplanned = serializers.ListField(child=serializers.CharField())
    untouched = serializers.ListField(child=serializers.CharField())
    matches = serializers.DictField(child=serializers.ListField(child=serializers.IntegerField()),
                                    help_text="Changed file -> the steps that planned it.")
    reported_by = serializers.CharField()
    created_at = serializers.DateTimeField()
    url = serializers.CharField()


class CriterionOut(serializers.Serializer):
    number = serializers.IntegerField()
    text = serializers.CharField()
    evidence = serializers.CharField(allow_null=True)
    checked_by = serializers.CharField(allow_null=True)


class VerificationOut(serializers.Serializer):
    outcome = serializers.CharField()
    comment = serializers.CharField()
    reviewer = serializers.CharField()
    created_at = serializers.DateTimeField()


class ImplementationOut(serializers.Serializer):
    plan = serializers.IntegerField()
    status = serializers.CharField()
    approved_revisions = serializers.ListField(child=serializers.IntegerField())
    steps = StepProgressOut(many=True)
    progress = ProgressOut(many=True)
    commits = serializers.ListField(child=serializers.CharField())
    drift_reports = DriftOut(many=True)
    criteria = CriterionOut(many=True)
    verifications = VerificationOut(many=True)


def _progress(r) -> dict:
    return {"id": r.pk, "step": r.step_number, "step_title": r.step_title,
            "action": r.action_number, "note": r.note, "commit": r.commit,
            "reported_by": r.reported_by.get_username(), "created_at": r.created_at}


def _drift(d, request) -> dict:
    return {"id": d.pk, "clear": d.clear, "revision": d.revision.number,
            "revision_sha256": d.revision.content_hash, "base": d.base, "head": d.head,
            "head_commit": d.head_commit, "changed": d.changed, "unplanned": d.unplanned,
            "untouched": d.untouched, "matches": d.matches,
            "reported_by": d.reported_by.get_username(), "created_at": d.created_at,
            "url": request.build_absolute_uri(f"/implementation/plan/{d.plan_id}/")}


def implementation_data(plan: Plan, request) -> dict:
    record = selectors.implementation_record(plan)
    if record is None:
        return {"plan": plan.pk, "status": plan.status, "approved_revisions": [], "steps": [],
                "progress": [], "commits": [], "drift_reports": [], "criteria": [],
                "verifications": []}
    return {
        "plan": plan.pk, "status": plan.status,
        "approved_revisions": [a.revision.number for a in record.history],
        "steps": [{"number": s.number, "title": s.title, "actions": s.actions,
                   "actions_done": sorted(s.actions_done), "done": s.done}
                  for s in record.steps],
        "progress": [_progress(r) for r in record.reports],
        "commits": record.commits,
        "drift_reports": [_drift(d, request) for d in record.drift_reports],
        "criteria": [{"number": c.number, "text": c.text,
                      "evidence": c.check.evidence if c.check else None,
                      "checked_by": c.check.checked_by.get_username() if c.check else None}
                     for c in record.criteria],
        "verifications": [{"outcome": v.outcome, "comment": v.comment,
                           "reviewer": v.reviewer.get_username(), "created_at": v.created_at}
                          for v in record.verifications],
    }


# --- views ----------------------------------------------------------------------------------------
class ImplementationView(ApiView):
    @extend_schema(operation_id="plan_implementation", responses=ImplementationOut,
                   summary="After approval: progress per step, drift reports, verification")
    def get(self, request, pk: int):
        plan = _viewable_plan(request, pk)
        return Response(ImplementationOut(implementation_data(plan, request)).data)


class StartView(ApiView):
    @extend_schema(request=None, responses=PlanOut,
                   summary="Start implementing an approved plan (author, co-author)")
    def post(self, request, pk: int):
        impl.implementation_start(actor=request.user, plan=plan_or_404(pk))
        return _plan_response(request, pk)


class FinishView(ApiView):
    @extend_schema(request=None, responses=PlanOut,
                   summary="Say the implementation is done (author, co-author)")
    def post(self, request, pk: int):
        impl.implementation_finish(actor=request.user, plan=plan_or_404(pk))
        return _plan_response(request, pk)


class ProgressView(ApiView):
    @extend_schema(request=ProgressIn, responses={201: ProgressOut},
                   summary="Mark a step (or one of its actions) done, with a note and commit")
    def post(self, request, pk: int):
        plan = plan_or_404(pk)
        data = _valid(ProgressIn, request.data)
        report = impl.progress_report(actor=request.user, plan=plan, step=data["step"],
                                      action=data.get("action"), note=data["note"],
                                      commit=data["commit"])
        return Response(ProgressOut(_progress(report)).data, status=status.HTTP_201_CREATED)


class DriftView(ApiView):
    @extend_schema(request=DriftIn, responses={201: DriftOut},
                   summary="Upload the changed files; answers the drift report against the "
                           "approved revision (kept per run)")
    def post(self, request, pk: int):
        plan = plan_or_404(pk)
        data = _valid(DriftIn, request.data)
        report = impl.drift_report_upload(actor=request.user, plan=plan, changed=data["files"],
                                          base=data["base"], head=data["head"],
                                          head_commit=data["head_commit"])
        return Response(DriftOut(_drift(report, request)).data, status=status.HTTP_201_CREATED)


class AmendView(ApiView):
    takes_markdown = True

    @extend_schema(request=AmendIn, responses=PlanOut,
                   summary="Submit an amendment of an approved plan for review")
    def post(self, request, pk: int):
        plan = plan_or_404(pk)
        data = _valid(AmendIn, request.data)
        impl.amendment_submit(actor=request.user, plan=plan, text=data["markdown"])
        return _plan_response(request, pk)


class VerificationView(ApiView):
    @extend_schema(request=VerificationIn, responses={201: VerificationOut},
                   summary="Post-implementation review: VERIFIED or SENT_BACK (a reviewer who "
                           "is not the author)")
    def post(self, request, pk: int):
        plan = plan_or_404(pk)
        data = _valid(VerificationIn, request.data)
        verification = impl.verification_decide(
            actor=request.user, plan=plan, outcome=data["outcome"], comment=data["comment"],
            evidence={c["criterion"]: c["evidence"] for c in data["criteria"]},
        )
        return Response(VerificationOut({
            "outcome": verification.outcome, "comment": verification.comment,
            "reviewer": verification.reviewer.get_username(),
            "created_at": verification.created_at}).data, status=status.HTTP_201_CREATED)
