"""Create the demo users and import the example plans. Safe to run again: nothing is duplicated."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.roles import ADMINS, AUTHORS, REVIEWERS
from plans.markdown import DEMO_DIR, MarkdownImportError, parse_plan
from plans.models import Plan
from plans.services import plan_import_markdown

DEMO_USERS = [
    # username, full name, roles, password
    ("alice", "Alice Author", (AUTHORS,), "plangate-alice"),
    ("rob", "Rob Reviewer", (REVIEWERS,), "plangate-rob"),
    ("rita", "Rita Reviewer", (REVIEWERS,), "plangate-rita"),
    ("ada", "Ada Admin", (ADMINS, REVIEWERS), "plangate-ada"),
]


def examples_dir() -> Path:
    """The demo plans, in the repository (plans/demo/)."""
    return DEMO_DIR


class Command(BaseCommand):
    help = "Create demo users (author, two reviewers, admin) and import the example plans."

    def add_arguments(self, parser):
        parser.add_argument("--examples", type=Path, default=None,
                            help="Folder of example plans (default: plans/demo/).")

    def handle(self, *args, examples: Path | None = None, **options):
        users = self._users()
        imported = self._import_examples(examples or examples_dir(), users["alice"])
        self.stdout.write(self.style.SUCCESS("Demo logins (username / password):"))
        for username, full_name, roles, password in DEMO_USERS:
            self.stdout.write(f"  {username:<6} / {password:<16} {full_name} ({', '.join(roles)})")
        self.stdout.write(f"Example plans imported this run: {imported}")

    @transaction.atomic
    def _users(self) -> dict:
        User = get_user_model()
        users = {}
        for username, full_name, roles, password in DEMO_USERS:
            first, last = full_name.split(" ", 1)
            user, _ = User.objects.get_or_create(
                username=username,
                defaults={"first_name": first, "last_name": last,
                          "email": f"{username}@plangate.invalid"},
            )
            user.set_password(password)
            user.is_staff = ADMINS in roles
            user.is_superuser = ADMINS in roles
            user.save()
            user.groups.set(Group.objects.filter(name__in=roles))
            users[username] = user
        return users

    def _import_examples(self, folder: Path, author) -> int:
        if not folder.is_dir():
            self.stdout.write(f"No example plans at {folder}; skipped.")
            return 0
        imported = 0
        for path in sorted(folder.glob("*.md")):
            text = path.read_bytes()
            try:
                title = parse_plan(text).title
                if Plan.objects.filter(author=author, title=title).exists():
                    continue
                plan_import_markdown(actor=author, text=text)
            except MarkdownImportError as exc:
                self.stderr.write(f"{path.name}: {exc}")
                continue
            imported += 1
        return imported
