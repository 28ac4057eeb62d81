from django.urls import path

from . import views

app_name = "insights"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("search/", views.search_page, name="search"),
    path("insights/", views.insights_page, name="insights"),
    path("insights/<slug:figure>.csv", views.insights_csv, name="insights_csv"),
]
