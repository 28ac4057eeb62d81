"""What happens to personal API tokens (registered in ApiConfig.ready): both are audited."""

from notifications.events import Event

TOKEN_CREATED = Event("token.created", "API token created")
TOKEN_REVOKED = Event("token.revoked", "API token revoked")

EVENTS = (TOKEN_CREATED, TOKEN_REVOKED)
