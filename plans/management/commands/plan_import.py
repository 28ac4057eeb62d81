"""Import a folder of Markdown plans: ``manage.py plan_import --author alice plans/*.md``.

One line per file on stdout, ``ID<TAB>FILE<TAB>N warnings``; a file that cannot be imported (not
UTF-8, a NUL byte, over 1 MB, unreadable) is named on stderr with the reason, the others are
still imported, and the command exits non-zero.
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from plans.markdown import MarkdownImportError
from plans.services import plan_import_markdown


class Command(BaseCommand):
    help = "Import Markdown plans as drafts of one author; prints ID, file and warning count."

    def add_arguments(self, parser):
        parser.add_argument("--author", required=True, help="Username of the plans' author.")
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE")

    def handle(self, *args, author: str, files: list[Path], **options):
        try:
            user = get_user_model().objects.get(username=author)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {author!r}.") from None
        refused = 0
        for path in files:
            try:
                plan = plan_import_markdown(actor=user, text=path.read_bytes())
            except (OSError, MarkdownImportError) as exc:
                refused += 1
                reason = exc.strerror if isinstance(exc, OSError) else str(exc)
                self.stderr.write(f"{path}\trefused: {reason}")
                continue
            self.stdout.write(f"{plan.pk}\t{path}\t{len(plan.import_report['warnings'])} warnings")
        if refused:
            raise CommandError(f"{refused} of {len(files)} file(s) refused.", returncode=1)
