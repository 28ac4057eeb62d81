from csp.decorators import csp_update
from django.contrib.auth.decorators import login_not_required
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import pages, views

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
    path("v1/verify", views.VerifyView.as_view(), name="verify"),
    path("v1/approvals/<str:sha256>", views.ApprovalView.as_view(), name="approval"),
    re_path(r"^v1/.*$", views.NotFoundView.as_view(), name="not_found"),
]
urlpatterns = schema + pages_ + v1
