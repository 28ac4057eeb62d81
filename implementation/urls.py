from django.urls import path

from . import views

app_name = "implementation"
urlpatterns = [
    path("plan/<int:plan_id>/", views.record, name="record"),
    path("plan/<int:plan_id>/start/", views.start, name="start"),
    path("plan/<int:plan_id>/finish/", views.finish, name="finish"),
    path("plan/<int:plan_id>/verify/", views.verify, name="verify"),
]
