from django.urls import path

from . import reviewer_views, views

app_name = "reviews"
urlpatterns = [
    path("plan/<int:plan_id>/submit/", views.plan_submit, name="submit"),
    path("plan/<int:plan_id>/withdraw/", views.plan_withdraw, name="withdraw"),
    path("plan/<int:plan_id>/start/", views.review_start, name="start"),
    path("plan/<int:plan_id>/request/", views.request_reviewers, name="request"),
    path("plan/<int:plan_id>/reviewers/", reviewer_views.reviewer_suggestions,
         name="reviewer_suggestions"),
    path("plan/<int:plan_id>/rerequest/<int:user_id>/", views.review_rerequest,
         name="rerequest"),
    path("plan/<int:plan_id>/concerns/", views.concern_raise, name="concern_raise"),
    path("plan/<int:plan_id>/comments/", views.comments, name="comments"),
    path("plan/<int:plan_id>/timeline/", views.plan_timeline, name="timeline"),
    path("plan/<int:plan_id>/certificate/", views.certificate, name="certificate"),
    path("plan/<int:plan_id>/certificate.md", views.certificate_markdown,
         name="certificate_markdown"),
    path("concerns/<int:pk>/resolve/", views.concern_resolve, name="concern_resolve"),
    path("comments/<int:pk>/reply/", views.comment_reply, name="comment_reply"),
    path("comments/<int:pk>/edit/", views.comment_edit, name="comment_edit"),
    path("comments/<int:pk>/resolve/", views.thread_resolve, name="thread_resolve"),
    path("comments/<int:pk>/reopen/", views.thread_reopen, name="thread_reopen"),
    path("<int:pk>/", views.review_detail, name="review"),
    path("<int:pk>/answer/", views.review_answer, name="answer"),
    path("<int:pk>/decide/", views.review_decide, name="decide"),
]
