"""The bench's urlconf: the app's own URLs plus the bare baseline view (bench.views.bare).

Selected only by bench/settings.py (ROOT_URLCONF); the production urlconf has no such URL.
"""

from django.urls import include, path

from . import views

urlpatterns = [
    path("__bench__/bare/<int:pk>/", views.bare, name="bench_bare"),
    path("", include("config.urls")),
]
