"""Step titles that begin with punctuation ("### 1. - Fix the cache") were read without it
("Fix the cache": the heading's separator took the title's first character as a second one).
The parser now keeps it; an imported plan's stored titles are read again from its source, or
its export would rewrite those headings (its bytes would change). Only a step whose stored
title is the old reading of a heading of its source changes. The two readings are written out
here: a migration keeps its own code."""

import re

from django.db import migrations

HEADING = re.compile(r"^#{1,6}[ \t]+(?P<text>.*?)[ \t]*$")
NUMBER = r"^(?:(?:step|phase|stage|part|task|milestone)[ \t]*\d+(?:\.\d+)*|\d+(?:\.\d+)*"
OLD = re.compile(NUMBER + r"[.)]?)(?=[ \t:.\-–—)]|$)[ \t]*[:.\-–—)]?[ \t]*", re.I)
NEW = re.compile(NUMBER + r")(?=[ \t:.\-–—)]|$)(?:[.)][:\-–—]?|[ \t]*[:.\-–—)])?[ \t]*", re.I)


def _rereadings(source: str) -> dict[str, str]:
    """{old title: new title} of the source's step headings whose reading changed."""
    found = {}
    for line in source.splitlines():
        heading = HEADING.match(line)
        if heading is None:
            continue
        text = heading["text"]
        old, new = OLD.match(text), NEW.match(text)
        if old and new and text[old.end():] != text[new.end():] and text[old.end():]:
            found[text[old.end():]] = text[new.end():]
    return found


def reread_titles(apps, schema_editor):
    Plan = apps.get_model("plans", "Plan")
    PlanStep = apps.get_model("plans", "PlanStep")
    for plan in Plan.objects.exclude(source=None).only("pk", "source").iterator(chunk_size=200):
        for old, new in _rereadings(plan.source).items():
            PlanStep.objects.filter(plan_id=plan.pk, title=old).update(title=new[:300])


class Migration(migrations.Migration):

    dependencies = [
        ("plans", "0011_plan_source_sha256"),
    ]

    operations = [
        migrations.RunPython(reread_titles, migrations.RunPython.noop),
    ]
