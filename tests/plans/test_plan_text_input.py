"""Text that reaches a plan is stored the same whichever way it came in: browser line endings do
not change a plan's content hash, single-line fields stay single lines, estimates fit the column."""

from pathlib import Path

import pytest
from django import forms as django_forms
from django.urls import reverse

from core.errors import ValidationError
from plans import services
from plans.markdown import TEMPLATE, export_plan, parse_estimate_hours, parse_plan
from plans.models import Plan, PlanStep, StepAction, StepFile, SuccessCriterion
from tests.factories import ready_plan
from tests.plans.test_plan_editor import editor_data

pytestmark = pytest.mark.django_db

EXAMPLE = Path(__file__).parents[1] / "data" / "rate-limit-login.md"


def rendered_form_data(response) -> tuple[dict, list[str]]:
    """The edit page's form as the browser would post it unchanged: every field's rendered
    value, the step formset with its management form, and the names of the textareas."""
    context = response.context
    data, textareas = {"loaded_at": context["loaded_at"]}, []
    forms = [context["form"], context["formset"].management_form, *context["formset"].forms]
    for form in forms:
        for bound in form:
            widget = bound.field.widget
            value = widget.format_value(bound.value())
            if isinstance(value, list):  # a select renders its one chosen option
                value = value[0] if value else ""
            data[bound.html_name] = "" if value is None else str(value)
            if isinstance(widget, django_forms.Textarea):
                textareas.append(bound.html_name)
    return data, textareas


# --- C2: CRLF from browsers ----------------------------------------------------------------


def test_saving_unchanged_in_a_browser_keeps_the_content_hash(author_client, author):
    plan = services.plan_import_markdown(actor=author, text=EXAMPLE.read_bytes())
    first = services.plan_submit(actor=author, plan=plan)
    plan.refresh_from_db()
    plan = services.plan_withdraw(actor=author, plan=plan)

    page = author_client.get(reverse("plans:edit", args=[plan.pk]))
    data, textareas = rendered_form_data(page)
    multi_line = [name for name in textareas if "\n" in data[name]]
    assert len(multi_line) >= 5  # the example really has multi-line prose, actions, files
    for name in textareas:  # what browsers send for a textarea
        data[name] = data[name].replace("\n", "\r\n")
    response = author_client.post(reverse("plans:edit", args=[plan.pk]), data)
    assert response.status_code == 302, response.context["form"].errors

    plan.refresh_from_db()
    assert "\r" not in export_plan(Plan.objects.get(pk=plan.pk))
    second = services.plan_submit(actor=author, plan=plan)
    assert second.number == first.number + 1
    assert second.content_hash == first.content_hash


def test_services_store_line_breaks_as_lf_for_every_text(author):
    plan = ready_plan(author=author)
    services.plan_update(
        actor=author, plan=plan,
        fields={"problem_statement": "one\r\ntwo\rthree", "title": "CRLF plan"},
        steps=[{"title": "Step", "objective": "a\r\nb", "dependencies": "c\r\nd",
                "actions": [("act\r\n  more", False)], "files": [("a.py", "desc\r\n  more")],
                "estimate": "1 hour", "risk": "low"}],
        success_criteria=[("crit\r\n  more", True)],
    )  # fmt: skip
    plan.refresh_from_db()
    step = PlanStep.objects.get(plan=plan)
    assert plan.problem_statement == "one\ntwo\nthree"
    assert (step.objective, step.dependencies) == ("a\nb", "c\nd")
    assert StepAction.objects.get(step=step).text == "act\n  more"
    assert StepFile.objects.get(step=step).description == "desc\n  more"
    assert SuccessCriterion.objects.get(plan=plan).text == "crit\n  more"

    created = services.plan_create(actor=author, title="New", problem_statement="x\r\ny",
                                   steps=[{"title": "S", "objective": "p\r\nq"}])
    assert created.problem_statement == "x\ny"
    assert created.steps.get().objective == "p\nq"


# --- C3: line breaks and control characters in single-line fields ---------------------------

INJECTED = "T\n\n## Rollback Plan\n\ninjected"


def test_editor_refuses_a_title_with_line_breaks_next_to_the_field(author_client):
    response = author_client.post(reverse("plans:create"), editor_data(title=INJECTED))
    page = response.content.decode()
    assert response.status_code == 200
    title_field = page.split('id="field-title"', 1)[1].split("</div>", 1)[0]
    assert "single line" in title_field
    assert not Plan.objects.exists()


@pytest.mark.parametrize("field, value", [
    ("title", "Step\rtwo"),
    ("estimate", "1 \x07hour"),
    ("actions", "- [ ] do \x07 it"),
    ("files", "a\x1bb.py - what"),
])  # fmt: skip
def test_editor_refuses_control_characters_in_step_lines(author_client, author, field, value):
    plan = ready_plan(author=author, title="Kept")
    step = {"title": "Fine", "objective": "o", "risk": "low", field: value}
    response = author_client.post(reverse("plans:edit", args=[plan.pk]),
                                  editor_data(steps=[step], title="Changed"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "single line" in page
    assert f'name="steps-0-{field}"' in page.split("single line", 1)[0][-3000:] or (
        "single line" in page.split(f'name="steps-0-{field}"', 1)[1][:3000])
    plan.refresh_from_db()
    assert plan.title == "Kept"
    assert PlanStep.objects.get(plan=plan).title != "Fine"


@pytest.mark.parametrize("call", [
    lambda a, p: services.plan_update(actor=a, plan=p, fields={"title": INJECTED}),
    lambda a, p: services.plan_create(actor=a, title="ok\u2028line"),
    lambda a, p: services.plan_update(actor=a, plan=p, steps=[{"title": "A\nB"}]),
    lambda a, p: services.plan_update(actor=a, plan=p, steps=[{"title": "A", "estimate": "1h\n"
                                                               "\n## Rollback Plan"}]),
    lambda a, p: services.plan_update(actor=a, plan=p, steps=[
        {"title": "A", "actions": [("x\n\n## Rollback Plan", False)]}]),
    lambda a, p: services.plan_update(actor=a, plan=p, steps=[
        {"title": "A", "files": [("a.py\n## X", "")]}]),
    lambda a, p: services.plan_update(actor=a, plan=p, steps=[
        {"title": "A", "files": [("a.py", "d\n## Rollback Plan")]}]),
    lambda a, p: services.plan_update(actor=a, plan=p, success_criteria=[("ok\x00", False)]),
    lambda a, p: services.plan_update(actor=a, plan=p, success_criteria=[("ok\n  ```", False)]),
], ids=["plan-title", "create-title", "step-title", "estimate", "action", "file-path",
        "file-description", "criterion-nul", "criterion-fence"])  # fmt: skip
def test_services_refuse_line_breaks_in_single_line_fields(author, call):
    plan = ready_plan(author=author, title="Kept")
    before = export_plan(Plan.objects.get(pk=plan.pk))
    plans_before = Plan.objects.count()
    with pytest.raises(ValidationError, match=r"single line|one line"):
        call(author, plan)
    assert Plan.objects.count() == plans_before
    assert export_plan(Plan.objects.get(pk=plan.pk)) == before


def test_an_injected_title_cannot_add_sections_to_the_export(author):
    plan = ready_plan(author=author)
    with pytest.raises(ValidationError):
        services.plan_update(actor=author, plan=plan, fields={"title": INJECTED})
    # What the validators let through (indented continuation lines) stays inside its item.
    services.plan_update(actor=author, plan=plan, fields={"title": "Safe"}, success_criteria=[
        ("first\n  ## Rollback Plan", False)])  # fmt: skip
    doc = parse_plan(export_plan(Plan.objects.get(pk=plan.pk)))
    assert doc.title == "Safe"
    assert [c.text for c in doc.success_criteria] == ["first\n  ## Rollback Plan"]


def test_import_keeps_a_title_with_control_characters_out_of_the_title(author_client):
    text = TEMPLATE.replace("[Feature Name]", "Bell\x07title", 1)
    response = author_client.post(reverse("plans:import"), {"text": text}, follow=True)
    plan = Plan.objects.get()
    assert plan.title == ""
    assert "control characters; the plan has no title" in response.content.decode()
    assert export_plan(plan) == text  # the text itself is kept


# --- I2: estimates that do not fit estimated_hours ------------------------------------------


@pytest.mark.parametrize("text", ["1000000 hours", "125000 days", "100000 h"])
def test_huge_estimate_is_refused_with_a_clear_message(text):
    with pytest.raises(ValueError, match="under 100,000 hours"):
        parse_estimate_hours(text)


def test_largest_estimate_below_the_cap_is_saved(author):
    plan = ready_plan(author=author)
    services.plan_update(actor=author, plan=plan,
                         steps=[{"title": "Long", "estimate": "12499 days"}])
    assert str(PlanStep.objects.get(plan=plan).estimated_hours) == "99992.00"


def test_editor_reports_a_huge_estimate_next_to_the_field(author_client, author):
    plan = ready_plan(author=author, title="Kept")
    step = {"title": "Huge", "objective": "o", "risk": "low", "estimate": "125000 days"}
    response = author_client.post(reverse("plans:edit", args=[plan.pk]),
                                  editor_data(steps=[step], title="Changed"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Under 100,000 hours" in page or "under 100,000 hours" in page
    plan.refresh_from_db()
    assert plan.title == "Kept"


def test_import_reports_a_huge_estimate_with_its_line(author_client):
    text = TEMPLATE.replace("**Estimated Time**: X hours", "**Estimated Time**: 1000000 hours", 1)
    response = author_client.post(reverse("plans:import"), {"text": text}, follow=True)
    page = response.content.decode()
    line = text.splitlines().index("**Estimated Time**: 1000000 hours") + 1
    assert f"Line {line}: step 1 (&#x27;[Description]&#x27;): estimated time &#x27;1000000 " \
           "hours&#x27; is not a duration" in page
    step = Plan.objects.get().steps.first()
    assert (step.estimate, step.estimated_hours) == ("1000000 hours", None)


def test_items_that_continue_on_indented_lines_survive_an_unchanged_browser_save(
    author_client, author
):
    """An action, file or criterion written over two lines (the second indented, as the
    Markdown format allows) comes back from the editor as one item, not two."""
    text = EXAMPLE.read_text(encoding="utf-8")
    for line, continuation in [
        ("- [ ] Expire keys after the window\n", "  (sliding, not fixed)\n"),
        ("- `accounts/throttle.py` - New sliding-window counter\n", "  with a Lua script\n"),
        ("- [ ] Failed logins per day drop below 2,000\n", "  measured over a week\n"),
    ]:
        assert line in text
        text = text.replace(line, line + continuation, 1)
    plan = services.plan_import_markdown(actor=author, text=text)
    first = services.plan_submit(actor=author, plan=plan)
    plan.refresh_from_db()
    plan = services.plan_withdraw(actor=author, plan=plan)

    page = author_client.get(reverse("plans:edit", args=[plan.pk]))
    data, _textareas = rendered_form_data(page)
    response = author_client.post(reverse("plans:edit", args=[plan.pk]), data)
    assert response.status_code == 302, response.context["form"].errors

    assert StepAction.objects.filter(
        step__plan=plan, text="Expire keys after the window\n  (sliding, not fixed)"
    ).exists()
    assert services.plan_submit(actor=author, plan=plan).content_hash == first.content_hash
