from django.urls import path

from . import views

app_name = "audit"
urlpatterns = [
    path("", views.entry_list, name="list"),
    path("export.<str:fmt>", views.export, name="export"),
    path("plans/<int:plan_id>/", views.plan_timeline, name="timeline"),
    path("plans/<int:plan_id>/certificate/", views.certificate, name="certificate"),
    path("plans/<int:plan_id>/certificate.md", views.certificate_markdown,
         name="certificate_markdown"),
]
