"""Step titles that begin with punctuation ("-", ":", ")", a dash) under numbered headings: the
title is what follows the step's number and its one separator, the plan exports byte for byte,
and a title edited in the editor is written so that it reads back as entered."""

import importlib

import pytest
from django.apps import apps

from plans import services
from plans.markdown import export_plan, parse_plan
from plans.models import Plan
from tests.plans.test_edit_writer_shapes import changed_lines, new_step, rows

pytestmark = pytest.mark.django_db


def plan_text(first: str, second: str) -> str:
    return ("# Implementation Plan - Cache\n\n## Problem Statement\nStale reads.\n\n"
            f"## Implementation Steps\n\n### {first}\n**Objective**: Drop stale entries\n"
            "**Estimated Time**: 1 hour\n\n"
            f"### {second}\n**Objective**: Release it\n**Estimated Time**: 30 minutes\n\n"
            "## Rollback Plan\nRevert.\n")


# (first step's heading, second step's heading, the first step's title as a human reads it)
CASES = [
    ("1. - Fix the cache", "2. Ship it", "- Fix the cache"),
    ("1) ) weird", "2) Ship it", ") weird"),
    ("1. : colon first", "2. Ship it", ": colon first"),
    ("1. — em dash first", "2. Ship it", "— em dash first"),
    ("Step 1: : odd", "Step 2: Ship it", ": odd"),
    ("Step 1 - - dashed", "Step 2 - Ship it", "- dashed"),
    ("Step 1. ) closed", "Step 2. Ship it", ") closed"),
    ("Phase 1: -- flagged", "Phase 2: Ship it", "-- flagged"),
    # One separator written as two characters, in the Spanish way ("1.- Introducción").
    ("1.- Spanish style", "2.- Ship it", "Spanish style"),
    ("Step 1: Fix the cache", "Step 2: Ship it", "Fix the cache"),
    ("Step 1 Fix the cache", "Step 2 Ship it", "Fix the cache"),
    ("1 Fix the cache", "2 Ship it", "Fix the cache"),
]


@pytest.mark.parametrize(("first", "second", "title"), CASES)
def test_the_title_is_what_follows_the_number_and_its_separator(first, second, title):
    assert [s.title for s in parse_plan(plan_text(first, second)).steps] == [title, "Ship it"]


@pytest.mark.parametrize(("first", "second", "title"), CASES)
def test_an_imported_plan_keeps_its_title_and_exports_byte_for_byte(author, first, second,
                                                                     title):
    text = plan_text(first, second)
    plan = services.plan_import_markdown(actor=author, text=text)
    assert [s.title for s in plan.steps.all()] == [title, "Ship it"]
    assert export_plan(Plan.objects.get(pk=plan.pk)) == text


# (the headings as imported, the first step's title as edited, its heading as written back)
EDITS = [
    ("1. - Fix the cache", "2. Ship it", "- Fix the cache for good",
     "1. - Fix the cache for good"),
    ("1) ) weird", "2) Ship it", ") weirder", "1) ) weirder"),
    ("1. Fix the cache", "2. Ship it", ": colon now", "1. : colon now"),
    ("Step 1: : odd", "Step 2: Ship it", ": odder", "Step 1: : odder"),
    ("Step 1: Fix the cache", "Step 2: Ship it", "- Fix the cache", "Step 1: - Fix the cache"),
    ("Step 1 - - dashed", "Step 2 - Ship it", "- dashed again", "Step 1 - - dashed again"),
    ("1.- Spanish style", "2.- Ship it", "- guion", "1.- - guion"),
    # A heading without a separator gets one where the title would read as one.
    ("Step 1 Fix the cache", "Step 2 Ship it", "- Fix the cache", "Step 1: - Fix the cache"),
    ("1 Fix the cache", "2 Ship it", ") Fix the cache", "1: ) Fix the cache"),
    ("Step 1 Fix the cache", "Step 2 Ship it", ".5 second timeout",
     "Step 1: .5 second timeout"),
    ("Step 1 Fix the cache", "Step 2 Ship it", "Fix it", "Step 1 Fix it"),
]


@pytest.mark.parametrize(("first", "second", "title", "written"), EDITS)
def test_a_title_edited_in_the_editor_reads_back_and_only_its_heading_changes(
        author, first, second, title, written):
    text = plan_text(first, second)
    plan = services.plan_import_markdown(actor=author, text=text)
    steps = rows(plan)
    steps[0]["title"] = title
    services.plan_update(actor=author, plan=plan, steps=steps)
    plan = Plan.objects.get(pk=plan.pk)
    exported = export_plan(plan)
    assert [s.title for s in plan.steps.all()] == [title, "Ship it"]
    assert [s.title for s in parse_plan(exported).steps] == [title, "Ship it"]
    assert changed_lines(text, exported) == [f"-### {first}", f"+### {written}"]


def test_steps_moved_keep_their_punctuation_under_their_new_numbers(author):
    text = plan_text("1. - Fix the cache", "2. ) Ship it")
    plan = services.plan_import_markdown(actor=author, text=text)
    services.plan_update(actor=author, plan=plan, steps=rows(plan)[::-1])
    exported = export_plan(Plan.objects.get(pk=plan.pk))
    assert [s.title for s in parse_plan(exported).steps] == [") Ship it", "- Fix the cache"]
    assert "### 1. ) Ship it\n" in exported and "### 2. - Fix the cache\n" in exported


def test_a_step_added_after_headings_without_a_separator_keeps_its_punctuation(author):
    text = plan_text("Step 1 Fix the cache", "Step 2 Ship it")
    plan = services.plan_import_markdown(actor=author, text=text)
    services.plan_update(actor=author, plan=plan, steps=[*rows(plan), new_step("- Tidy up")])
    exported = export_plan(Plan.objects.get(pk=plan.pk))
    assert [s.title for s in parse_plan(exported).steps] == [
        "Fix the cache", "Ship it", "- Tidy up"]
    assert "### Step 3: - Tidy up\n" in exported


def test_plans_imported_before_the_fix_get_their_titles_back_and_export_byte_for_byte(author):
    # Imported before: the stored title lost its punctuation ("Fix the cache"), and its export
    # would rewrite the heading. The migration reads it again from the source.
    reread = importlib.import_module(
        "plans.migrations.0012_step_titles_keep_leading_punctuation").reread_titles
    text = plan_text("1. - Fix the cache", "2. Ship it")
    plan = services.plan_import_markdown(actor=author, text=text)
    plan.steps.filter(position=0).update(title="Fix the cache")
    untouched = services.plan_import_markdown(actor=author, text=plan_text("1. Fix it", "2. Go"))

    reread(apps, None)

    assert [s.title for s in plan.steps.all()] == ["- Fix the cache", "Ship it"]
    assert export_plan(Plan.objects.get(pk=plan.pk)) == text
    assert [s.title for s in untouched.steps.all()] == ["Fix it", "Go"]
