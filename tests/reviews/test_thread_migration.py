"""reviews 0005: replies nested deeper than one level (allowed before threads) join their
thread, so the conversation and the feedback API show them instead of failing."""

import importlib

import pytest
from django.apps import apps

from reviews.models import Comment
from tests.api.conftest import token_client
from tests.reviewkit import submitted_plan

flatten = importlib.import_module("reviews.migrations.0005_flatten_reply_threads").flatten

pytestmark = pytest.mark.django_db


def test_replies_to_replies_join_their_thread_and_the_feedback_shows_them(author, reviewer):
    plan = submitted_plan(author)
    root = Comment.objects.create(plan=plan, author=reviewer, body="Root")
    reply = Comment.objects.create(plan=plan, author=author, body="Reply", parent=root)
    deeper = Comment.objects.create(plan=plan, author=reviewer, body="Deeper", parent=reply)
    deepest = Comment.objects.create(plan=plan, author=author, body="Deepest", parent=deeper)

    flatten(apps, None)

    parents = dict(Comment.objects.values_list("pk", "parent_id"))
    assert parents == {root.pk: None, reply.pk: root.pk, deeper.pk: root.pk,
                       deepest.pk: root.pk}
    response = token_client(author).get(f"/api/v1/plans/{plan.pk}/feedback")
    assert response.status_code == 200
    assert "Deepest" in response.content.decode()
