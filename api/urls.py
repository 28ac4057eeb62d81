from csp.decorators import csp_update
from django.contrib.auth.decorators import login_not_required
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import implementation, pages, views

app_name = "api"

schema = [
    path("schema/", login_not_required(SpectacularAPIView.as_view()), name="schema"),
    # The split view serves Swagger UI's init script as a file (/api/docs/?script): the
    # Content-Security-Policy allows no inline script. Swagger UI's stylesheet draws its icons
    # as data: SVG images, so this page alone also allows data: images.
    path("docs/", csp_update({"img-src": ["data:"]})(login_not_required(
        SpectacularSwaggerSplitView.as_view(url_name="api:schema",
                                            template_name="api/swagger_ui.html"))),
         name="docs"),
]
pages_ = [
    path("tokens/", pages.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", pages.token_revoke, name="token_revoke"),
]
v1 = [
    path("v1/plans", views.PlanListView.as_view(), name="plans"),
    path("v1/plans/<int:pk>", views.PlanDetailView.as_view(), name="plan"),
    path("v1/plans/<int:pk>/revise", views.PlanReviseView.as_view(), name="plan_revise"),
    path("v1/plans/<int:pk>/submit", views.PlanSubmitView.as_view(), name="plan_submit"),
    path("v1/plans/<int:pk>/withdraw", views.PlanWithdrawView.as_view(), name="plan_withdraw"),
    path("v1/plans/<int:pk>/markdown", views.PlanMarkdownView.as_view(), name="plan_markdown"),
    path("v1/plans/<int:pk>/feedback", views.PlanFeedbackView.as_view(), name="plan_feedback"),
    path("v1/plans/<int:pk>/reviews", views.PlanReviewsView.as_view(), name="plan_reviews"),
    path("v1/plans/<int:pk>/comments", views.PlanCommentsView.as_view(), name="plan_comments"),
    path("v1/plans/<int:pk>/concerns", views.PlanConcernsView.as_view(), name="plan_concerns"),
    path("v1/reviews/<int:pk>", views.ReviewDetailView.as_view(), name="review"),
    path("v1/reviews/<int:pk>/answers", views.ReviewAnswerView.as_view(), name="review_answers"),
    path("v1/reviews/<int:pk>/decision", views.ReviewDecisionView.as_view(),
         name="review_decision"),
    path("v1/concerns/<int:pk>/resolve", views.ConcernResolveView.as_view(),
         name="concern_resolve"),
    path("v1/comments/<int:pk>/edit", views.CommentEditView.as_view(), name="comment_edit"),
    path("v1/comments/<int:pk>/resolve", views.ThreadResolveView.as_view(),
         name="thread_resolve"),
    path("v1/comments/<int:pk>/reopen", views.ThreadReopenView.as_view(), name="thread_reopen"),
    # After approval (api/implementation.py).
    path("v1/plans/<int:pk>/implementation", implementation.ImplementationView.as_view(),
         name="plan_implementation"),
    path("v1/plans/<int:pk>/start", implementation.StartView.as_view(), name="plan_start"),
    path("v1/plans/<int:pk>/finish", implementation.FinishView.as_view(), name="plan_finish"),
    path("v1/plans/<int:pk>/progress", implementation.ProgressView.as_view(),
         name="plan_progress"),
    path("v1/plans/<int:pk>/drift", implementation.DriftView.as_view(), name="plan_drift"),
    path("v1/plans/<int:pk>/amend", implementation.AmendView.as_view(), name="plan_amend"),
    path("v1/plans/<int:pk>/verification", implementation.VerificationView.as_view(),
         name="plan_verification"),
    path("v1/verify", views.VerifyView.as_view(), name="verify"),
    path("v1/approvals/<str:sha256>", views.ApprovalView.as_view(), name="approval"),
    re_path(r"^v1/.*$", views.NotFoundView.as_view(), name="not_found"),
]
urlpatterns = schema + pages_ + v1
