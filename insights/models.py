"""What search reads: one document per plan, its text by kind and (on PostgreSQL) a weighted
tsvector. Rebuilt on commit whenever the plan, a step, a comment or a concern changes
(insights/search.py), or for every plan by `manage.py search_reindex`."""

from django.contrib.postgres.search import SearchVectorField
from django.db import models


class SearchDocument(models.Model):
    plan = models.OneToOneField(
        "plans.Plan", on_delete=models.CASCADE, primary_key=True, related_name="search_document"
    )
    title = models.TextField(blank=True)  # weight A
    content = models.TextField(blank=True)  # weight B: prose sections and steps
    discussion = models.TextField(blank=True)  # weight C: comments and concerns
    # The three above as a weighted tsvector (PostgreSQL only; NULL elsewhere), GIN-indexed by
    # migration 0001 on PostgreSQL.
    vector = SearchVectorField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Search document of plan #{self.plan_id}"
