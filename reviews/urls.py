from django.urls import path

from . import views

app_name = "reviews"
urlpatterns = [
    path("plan/<int:plan_id>/submit/", views.plan_submit, name="submit"),
    path("plan/<int:plan_id>/withdraw/", views.plan_withdraw, name="withdraw"),
    path("plan/<int:plan_id>/start/", views.review_start, name="start"),
    path("plan/<int:plan_id>/request/", views.request_reviewers, name="request"),
    path("plan/<int:plan_id>/concerns/", views.concern_raise, name="concern_raise"),
    path("plan/<int:plan_id>/comments/", views.comments, name="comments"),
    path("plan/<int:plan_id>/timeline/", views.plan_timeline, name="timeline"),
    path("plan/<int:plan_id>/certificate/", views.certificate, name="certificate"),
    path("plan/<int:plan_id>/certificate.md", views.certificate_markdown,
         name="certificate_markdown"),
    path("concerns/<int:pk>/resolve/", views.concern_resolve, name="concern_resolve"),
    path("<int:pk>/", views.review_detail, name="review"),
    path("<int:pk>/answer/", views.review_answer, name="answer"),
    path("<int:pk>/decide/", views.review_decide, name="decide"),
]
