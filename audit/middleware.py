from .context import current_request, request_info


class AuditRequestMiddleware:
    """Remember the client's address, user agent and user so that log() can record them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_request.set(request_info(request))
        try:
            return self.get_response(request)
        finally:
            current_request.reset(token)
