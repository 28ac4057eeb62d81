"""Threads are one level deep since 0003 (a reply to a reply joins its thread). Replies that
were nested deeper before then are attached to their thread's first comment, so the conversation
page and the API show them."""

from django.db import migrations


def flatten(apps, schema_editor):
    Comment = apps.get_model("reviews", "Comment")
    while True:
        nested = list(Comment.objects.filter(parent__parent__isnull=False)
                      .values_list("pk", "parent__parent_id"))
        if not nested:
            return
        for pk, grandparent in nested:
            Comment.objects.filter(pk=pk).update(parent_id=grandparent)


class Migration(migrations.Migration):

    dependencies = [
        ("reviews", "0004_checklist_answers_carried_over"),
    ]

    operations = [
        migrations.RunPython(flatten, migrations.RunPython.noop),
    ]
