from django.urls import path

from . import draft_views, views

app_name = "plans"
urlpatterns = [
    path("", views.plan_list, name="list"),
    path("new/", views.plan_create, name="create"),
    path("import/", views.plan_import, name="import"),
    path("template.md", views.plan_template, name="template"),
    path("editor/steps/", views.editor_steps, name="editor_steps"),
    path("editor/totals/", views.editor_totals, name="editor_totals"),
    path("<int:pk>/", views.plan_detail, name="detail"),
    path("<int:pk>/edit/", views.plan_edit, name="edit"),
    path("<int:pk>/export/", views.plan_export, name="export"),
    path("<int:pk>/delete/", draft_views.plan_delete, name="delete"),
    path("<int:pk>/archive/", draft_views.plan_archive, name="archive"),
    path("<int:pk>/unarchive/", draft_views.plan_unarchive, name="unarchive"),
    path("<int:pk>/start-from/", views.plan_start_from, name="start_from"),
    path("<int:pk>/revisions/", views.plan_revisions, name="revisions"),
    path("<int:pk>/revisions/diff/", views.plan_diff, name="diff"),
    path("<int:pk>/revisions/<int:number>/", views.plan_revision, name="revision"),
]
