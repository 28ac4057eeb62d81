"""Write one plan's Markdown to stdout, and nothing else: ``manage.py plan_export 42 > plan.md``."""

from django.core.management.base import BaseCommand, CommandError
from django.http import Http404

from plans import selectors
from plans.markdown import export_plan


class Command(BaseCommand):
    help = "Print a plan's Markdown (as the Export button downloads it)."

    def add_arguments(self, parser):
        parser.add_argument("plan_id", type=int, metavar="ID")

    def handle(self, *args, plan_id: int, **options):
        try:
            plan = selectors.plan_with_content(plan_id)
        except Http404:
            raise CommandError(f"No plan with id {plan_id}.") from None
        self.stdout.write(export_plan(plan), ending="")
