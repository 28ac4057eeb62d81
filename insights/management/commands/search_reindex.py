from django.core.management.base import BaseCommand

from insights.search import reindex


class Command(BaseCommand):
    help = "Rebuild every plan's search document (after a bulk load, which sends no signals)."

    def handle(self, *args, **options):
        count = reindex()
        self.stdout.write(f"Rebuilt the search documents of {count} plan(s).")
