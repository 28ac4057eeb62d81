"""Create a personal API token for a user and print it alone on stdout (for scripts and CI):

    export PLANGATE_TOKEN=$(python manage.py token_create alice --name ci)
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from api import services
from core.errors import ValidationError, message_of


class Command(BaseCommand):
    help = "Create a personal API token for USERNAME and print it (only the token) on stdout."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="command line",
                            help="What the token is for (shown on the tokens page).")

    def handle(self, *args, username, name, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        try:
            # Whoever runs manage.py acts for the user: the token is theirs, created by them.
            _, raw = services.token_create(actor=user, user=user, name=name)
        except ValidationError as exc:
            raise CommandError(message_of(exc)) from None
        self.stdout.write(raw)
