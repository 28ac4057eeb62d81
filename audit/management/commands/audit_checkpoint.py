"""Append the audit chain's head to the checkpoint file now (beat does it on a schedule)."""

from django.core.management.base import BaseCommand

from audit import checkpoint


class Command(BaseCommand):
    help = "Write a signed checkpoint of the audit chain's head (see audit/checkpoint.py)."

    def handle(self, *args, **options):
        written = checkpoint.write()
        self.stdout.write(f"checkpoint: {written.count} entries, head #{written.head_id}")
