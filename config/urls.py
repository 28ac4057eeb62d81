from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from plans import views as plans_views

from . import views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="plans:list", permanent=False), name="home"),
    path("accounts/", include("accounts.urls")),
    path("plans/", include("plans.urls")),
    path("reviews/", include("reviews.urls")),
    path("audit/", include("audit.urls")),
    path("notifications/", include("notifications.urls")),
    # Before markdownx's own urls: the same upload, refusing files that are not raster images.
    path("markdownx/upload/", plans_views.MarkdownxUploadView.as_view(), name="markdownx_upload"),
    path("markdownx/", include("markdownx.urls")),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
