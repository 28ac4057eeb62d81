import json
import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

logger = logging.getLogger("plangate.csp")


@login_not_required
@require_GET
def healthz(request):
    """Liveness probe for the load balancer and docker-compose."""
    return HttpResponse("ok", content_type="text/plain")


FAVICON = settings.BASE_DIR / "static" / "favicon.ico"


@login_not_required
@require_GET
def favicon(request):
    """/favicon.ico, which browsers ask for on every site whatever the page links: the static
    icon, cached for a day (base.html links the SVG for browsers that take one)."""
    response = HttpResponse(FAVICON.read_bytes(), content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=86400"
    return response


@csrf_exempt  # browsers POST reports without a CSRF token (and from any page, signed in or not)
@login_not_required
@require_POST
def csp_report(request):
    """Where browsers send Content-Security-Policy violations (the policy's report-uri): logged
    as a warning, so a page that breaks under the policy shows up in the log; 204.

    Anyone can post here, so the body is bounded (413 beyond PLANGATE_CSP_REPORT_MAX_BYTES) and
    must be a JSON object (400 otherwise); only the report's known fields are logged.
    """
    limit = settings.PLANGATE_CSP_REPORT_MAX_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return HttpResponse("Report too large.", status=413, content_type="text/plain")
    body = request.read(limit + 1)
    if len(body) > limit:
        return HttpResponse("Report too large.", status=413, content_type="text/plain")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        payload = None
    if not isinstance(payload, dict):
        return HttpResponse("Expected a JSON CSP report.", status=400, content_type="text/plain")
    report = payload.get("csp-report", payload)
    if not isinstance(report, dict):
        return HttpResponse("Expected a JSON CSP report.", status=400, content_type="text/plain")
    fields = ("document-uri", "violated-directive", "effective-directive", "blocked-uri",
              "source-file", "line-number", "script-sample")
    logger.warning("CSP violation: %s",
                   {key: str(report[key])[:300] for key in fields if key in report})
    return HttpResponse(status=204)
