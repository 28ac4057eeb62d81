"""The editor marks what submission needs (the admins' rule of required sections), so an author
learns it before saving, not from the refusal after."""

import re

import pytest
from django.urls import reverse

from plans import services

pytestmark = pytest.mark.django_db


def headings_marked(page: str) -> list[str]:
    return re.findall(r"<h2>([^<]+) <small class=\"needed\">needed to submit</small></h2>", page)


def test_the_editor_marks_the_required_sections_and_each_step_s_objective_and_risk(
    author_client, admin_user
):
    page = author_client.get(reverse("plans:create")).content.decode()
    marked = headings_marked(page)
    assert "Implementation Steps" in marked and "Problem Statement" in marked
    assert "Current State Analysis" not in marked  # not required by default
    step = page[page.index('data-step="0"'):]
    assert re.search(r"Objective <small class=\"needed\">", step)
    assert re.search(r"Risk level <small class=\"needed\">", step)
    assert not re.search(r"Estimated time <small class=\"needed\">", step)

    rows = {"steps-TOTAL_FORMS": "1", "steps-INITIAL_FORMS": "0", "steps-0-title": "S",
            "op": "add"}
    added = author_client.post(reverse("plans:editor_steps"), rows).content.decode()
    assert added.count('Risk level <small class="needed">') == 2  # the new step's too

    services.submission_rule_update(actor=admin_user, required=["problem_statement"])
    page = author_client.get(reverse("plans:create")).content.decode()
    assert headings_marked(page) == ["Problem Statement"]
    added = author_client.post(reverse("plans:editor_steps"), rows).content.decode()
    assert 'class="needed"' not in added
