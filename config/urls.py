from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.http import Http404
from django.urls import include, path
from django.views.static import serve

from insights import views as insights_views
from plans import views as plans_views

from . import views

urlpatterns = [
    # Home is the dashboard of one's roles; "home" names it for the error pages' links.
    path("", insights_views.dashboard, name="home"),
    path("", include("insights.urls")),
    path("accounts/", include("accounts.urls")),
    path("plans/", include("plans.urls")),
    path("reviews/", include("reviews.urls")),
    path("implementation/", include("implementation.urls")),
    path("audit/", include("audit.urls")),
    path("notifications/", include("notifications.urls")),
    path("api/", include("api.urls")),
    # Before markdownx's own urls: uploads stored only as re-encoded PNG/JPEG/GIF, and answers
    # in JSON (never a 500) to a GET or a request without its file or content.
    path("markdownx/upload/", plans_views.MarkdownxUploadView.as_view(), name="markdownx_upload"),
    path(
        "markdownx/markdownify/",
        plans_views.MarkdownifyView.as_view(),
        name="markdownx_markdownify",
    ),
    path("markdownx/", include("markdownx.urls")),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("csp-report/", views.csp_report, name="csp_report"),  # the CSP's report-uri
]

MEDIA_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif")  # what uploads are stored as


def serve_media(request, path, document_root):
    """Development's MEDIA_URL, served as deploy/Caddyfile serves it in production.

    Uploads are user content on our own origin: only images are served, with the type their
    extension says, never sniffed, and sandboxed should a browser render one as a document. A
    file stored before uploads were re-encoded (an .html or .svg page) is not served at all.
    """
    if not path.lower().endswith(MEDIA_EXTENSIONS):
        raise Http404("Not an image.")
    response = serve(request, path, document_root=document_root)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, view=serve_media, document_root=settings.MEDIA_ROOT)
