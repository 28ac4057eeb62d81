"""core.compiled.CompiledQuery gives what the ORM gives: the same SQL sent to the database, the
same rows as the same model instances (related objects, annotations, prefetches), for any values;
what it cannot compile it says so, and what it does not compile it leaves to the ORM."""

import contextlib

import pytest
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.db.transaction import TransactionManagementError
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from core import compiled
from core.compiled import CompiledQuery
from plans.models import Plan, PlanEditor, PlanStatus, PlanStep, RiskLevel
from tests.factories import AuthorFactory, PlanFactory, PlanStepFactory

pytestmark = pytest.mark.django_db


def plans_with_risk(author_id: int, risk: str):
    """A join, an annotation with a parameter inside its subquery, a constant, an order."""
    return (Plan.objects.filter(~Q(status=PlanStatus.REJECTED), author_id=author_id)
            .select_related("author")
            .annotate(risky=Exists(PlanStep.objects.filter(plan=OuterRef("pk"), risk=risk)),
                      editors_n=Count("editors"))
            .order_by("-pk"))


def newest_step(plan_id: int):
    return PlanStep.objects.filter(plan_id=plan_id).order_by("-position")[:1]


def step_titles(plan_id: int, risk: str):
    return PlanStep.objects.filter(plan_id=plan_id, risk=risk).values_list("title", flat=True)


def titled(ids: list, title: str):
    return Plan.objects.filter(pk__in=ids, title__gt=title).values_list("pk", flat=True)


def locked_plan(pk: int):
    return Plan.objects.select_for_update(of=("self",)).filter(pk=pk)


def as_compared(objects) -> list:
    """What a caller sees of each result: its fields, annotations and related objects."""
    if objects and not hasattr(objects[0], "_meta"):
        return list(objects)
    return [(model_to_dict(obj), {k: v for k, v in vars(obj).items()
                                   if not k.startswith("_") and k not in model_to_dict(obj)},
             model_to_dict(obj.author) if isinstance(obj, Plan) else None)
            for obj in objects]


def both(build, **params):
    """(ORM results, compiled results, the SQL each sent)."""
    query = CompiledQuery(build)
    query.all(**params)  # compiled on a first call: compare a later one
    with CaptureQueriesContext(connection) as orm_sql:
        by_orm = list(build(**params))
    with CaptureQueriesContext(connection) as compiled_sql:
        by_compiled = query.all(**params)
    return by_orm, by_compiled, orm_sql.captured_queries, compiled_sql.captured_queries


@pytest.fixture
def data():
    authors = AuthorFactory.create_batch(2)
    plans = [PlanFactory(author=authors[n % 2]) for n in range(5)]
    for n, plan in enumerate(plans):
        for position in range(n % 3 + 1):
            PlanStepFactory(plan=plan, position=position,
                            risk=[RiskLevel.LOW, RiskLevel.HIGH][(n + position) % 2])
    PlanEditor.objects.create(plan=plans[0], user=authors[1])
    return authors, plans


def test_the_same_sql_and_the_same_objects_for_each_value(data):
    authors, _ = data
    for author in authors:
        for risk in RiskLevel.values:
            by_orm, by_compiled, orm_sql, compiled_sql = both(
                plans_with_risk, author_id=author.pk, risk=risk)
            assert by_orm and as_compared(by_compiled) == as_compared(by_orm)
            assert [q["sql"] for q in compiled_sql] == [q["sql"] for q in orm_sql]


@settings(max_examples=30, deadline=None)
@given(plan_index=st.integers(0, 6), risk=st.sampled_from([*RiskLevel.values, "", "o'x%"]))
def test_any_value_gives_the_orms_rows(plan_index, risk):
    plan = PlanFactory()
    PlanStepFactory(plan=plan, risk=RiskLevel.HIGH, title="Ship it")
    plan_id = plan.pk + plan_index - 3  # this plan, others, ids with no plan
    for build, params in ((step_titles, {"plan_id": plan_id, "risk": risk}),
                          (newest_step, {"plan_id": plan_id})):
        by_orm, by_compiled, orm_sql, compiled_sql = both(build, **params)
        assert as_compared(by_compiled) == as_compared(by_orm)
        assert [q["sql"] for q in compiled_sql] == [q["sql"] for q in orm_sql]


@settings(max_examples=30, deadline=None)
@given(picks=st.lists(st.integers(0, 7), min_size=1, max_size=6), title=st.text(max_size=3))
def test_a_list_is_compiled_for_its_length_and_gives_the_orms_rows(picks, title):
    plans = PlanFactory.create_batch(4)
    ids = [plans[0].pk + pick - 2 for pick in picks]  # repeats, ids of other plans, of none
    by_orm, by_compiled, orm_sql, compiled_sql = both(titled, ids=ids, title=title)
    assert by_compiled == by_orm
    assert [q["sql"] for q in compiled_sql] == [q["sql"] for q in orm_sql]


def test_lists_it_does_not_compile_go_to_the_orm(data):
    _, plans = data
    query = CompiledQuery(titled)
    assert query.all(ids=[], title="") == []
    assert sorted(query.all(ids=[plans[0].pk, str(plans[1].pk)], title="")) == sorted(
        [plans[0].pk, plans[1].pk])  # mixed types
    many = [*range(-compiled.MAX_LIST, 0), plans[2].pk]  # (more than MAX_LIST)
    assert query.all(ids=many, title="") == [plans[2].pk]
    assert query._compiled == {}


def test_prefetches_run_as_the_orm_runs_them(data):
    _, plans = data
    query = CompiledQuery(lambda pk: Plan.objects.filter(pk=pk).prefetch_related("steps"))
    found = query.get(pk=plans[2].pk)
    with CaptureQueriesContext(connection) as sql:
        titles = [step.title for step in found.steps.all()]
    assert titles == [step.title for step in plans[2].steps.order_by("position")]
    assert len(sql) == 0


def test_first_and_get_answer_as_the_orm_does(data):
    _, plans = data
    assert CompiledQuery(newest_step).first(plan_id=plans[2].pk).position == 2
    assert CompiledQuery(newest_step).first(plan_id=-1) is None
    one = CompiledQuery(lambda pk: Plan.objects.filter(pk=pk))
    assert one.get(pk=plans[1].pk) == plans[1]
    with pytest.raises(Plan.DoesNotExist, match="Plan matching query does not exist"):
        one.get(pk=-1)
    several = CompiledQuery(lambda author_id: Plan.objects.filter(author_id=author_id))
    with pytest.raises(Plan.MultipleObjectsReturned, match="it returned 3"):
        several.get(author_id=plans[0].author_id)


@pytest.mark.django_db(transaction=True)
def test_a_row_lock_needs_a_transaction_as_it_does_through_the_orm():
    plans = PlanFactory.create_batch(2)
    query = CompiledQuery(locked_plan)
    locks = connection.features.has_select_for_update  # (SQLite locks the whole file instead)
    outside = pytest.raises(TransactionManagementError) if locks else contextlib.nullcontext()
    with outside:
        list(locked_plan(pk=plans[0].pk))
    with outside:
        query.all(pk=plans[0].pk)
    with transaction.atomic(), CaptureQueriesContext(connection) as sql:
        assert query.get(pk=plans[0].pk) == plans[0]
        assert query.get(pk=plans[1].pk) == plans[1]
    assert all(("FOR UPDATE" in q["sql"]) == locks for q in sql if "SELECT" in q["sql"])
    with outside:
        query.all(pk=plans[0].pk)  # once compiled, still refused outside one


def test_values_it_does_not_compile_go_to_the_orm(data):
    _, plans = data
    unowned = CompiledQuery(lambda author_id: Plan.objects.filter(author_id=author_id))
    assert unowned.all(author_id=plans[0].author_id)
    assert unowned.all(author_id=None) == []  # IS NULL, as the ORM builds it
    flagged = CompiledQuery(lambda archived: Plan.objects.filter(archived_at__isnull=archived))
    assert len(flagged.all(archived=True)) == 5 and flagged.all(archived=False) == []
    one = CompiledQuery(lambda pk: Plan.objects.filter(pk=pk))
    assert one.get(pk=str(plans[1].pk)) == plans[1]  # a str for an integer column: the ORM's
    with pytest.raises(ValueError, match="expected a number"):
        one.get(pk="one")


def test_switched_off_every_call_is_the_orms(data, monkeypatch):
    _, plans = data
    query = CompiledQuery(newest_step)
    monkeypatch.setattr(compiled, "enabled", False)
    assert query.first(plan_id=plans[1].pk).position == 1
    assert query._compiled == {}


def test_a_parameter_the_orm_rewrites_cannot_be_compiled(data):
    query = CompiledQuery(lambda text: Plan.objects.filter(title__icontains=text))
    with pytest.raises(ValueError, match="'text' does not reach the SQL as it is"):
        query.all(text="Plan")


def test_ints_out_of_range_and_long_lists_of_strs_answer_as_the_orm_does(data):
    _, plans = data
    one = CompiledQuery(lambda pk: Plan.objects.filter(pk=pk))
    for huge in (2**63, -(2**63) - 1, 10**30):
        assert one.all(pk=huge) == list(Plan.objects.filter(pk=huge)) == []
    titles = [f"Plan {n}" for n in range(12)] + [plans[3].title]  # stand-ins 1 and 10, 11...
    named = CompiledQuery(lambda titles: Plan.objects.filter(title__in=titles)
                          .values_list("pk", flat=True))
    assert named.all(titles=titles) == [plans[3].pk]


def test_a_plan_page_of_a_huge_id_is_not_found(author_client):
    assert author_client.get(f"/plans/{2**63}/").status_code == 404


def test_choices_members_are_the_values_they_stand_for(data):
    _, plans = data
    query = CompiledQuery(step_titles)
    by_member = query.all(plan_id=plans[1].pk, risk=RiskLevel.HIGH)
    assert by_member == query.all(plan_id=plans[1].pk, risk="high") == list(
        step_titles(plans[1].pk, RiskLevel.HIGH))
    assert len(query._compiled) == 1  # the same compiled form for both


def test_compiled_forms_are_bounded_and_later_forms_still_answer(data):
    _, plans = data
    query = CompiledQuery(lambda ids: Plan.objects.filter(pk__in=ids).values_list("pk", flat=True))
    for length in range(1, compiled.MAX_FORMS + 10):
        ids = [plans[0].pk, *range(-length, -1)]
        assert query.all(ids=ids) == [plans[0].pk]
    assert len(query._compiled) == compiled.MAX_FORMS


def test_a_prefetch_with_its_own_queryset_cannot_be_compiled(data):
    query = CompiledQuery(lambda risk: Plan.objects.filter(steps__risk=risk).prefetch_related(
        Prefetch("steps", queryset=PlanStep.objects.filter(risk=risk), to_attr="risky")))
    with pytest.raises(ValueError, match="a Prefetch with a queryset of its own"):
        query.all(risk=RiskLevel.HIGH)
