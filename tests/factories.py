"""factory_boy factories: the one place tests build objects. Prefer services for state changes."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from accounts.roles import ADMINS, AUTHORS, REVIEWERS
from plans.models import Plan, PlanStep, RiskLevel, StepAction, StepFile, SuccessCriterion


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.Faker("first_name")
    password = factory.django.Password("pw")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        """Group names; each subclass below adds its role unless `roles=` says otherwise."""
        wanted = extracted if extracted is not None else kwargs.get("default", ())
        if create and wanted:
            self.groups.add(*Group.objects.filter(name__in=wanted))


class AuthorFactory(UserFactory):
    roles__default = (AUTHORS,)


class ReviewerFactory(UserFactory):
    roles__default = (REVIEWERS,)


class AdminFactory(UserFactory):
    roles__default = (ADMINS,)
    is_staff = True


class PlanFactory(factory.django.DjangoModelFactory):
    """A plan with the sections the review workflow requires, but no steps (see ready_plan)."""

    class Meta:
        model = Plan

    title = factory.Sequence(lambda n: f"Plan {n}")
    author = factory.SubFactory(AuthorFactory)
    problem_statement = "Logins are slow under load."
    existing_system = "- Stock Django login"
    high_level_approach = "- Cache sessions in Redis"
    unit_testing = "- Counter tests"
    rollback_if_fails = "- Turn the flag off"


class PlanStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanStep

    plan = factory.SubFactory(PlanFactory)
    position = factory.Sequence(lambda n: n)
    title = factory.Sequence(lambda n: f"Step {n}")
    objective = "Do the thing"
    estimate = "2 hours"
    estimated_hours = 2
    risk = RiskLevel.LOW


class StepActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StepAction

    step = factory.SubFactory(PlanStepFactory)
    position = factory.Sequence(lambda n: n)
    text = factory.Sequence(lambda n: f"Task {n}")


class StepFileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StepFile

    step = factory.SubFactory(PlanStepFactory)
    position = factory.Sequence(lambda n: n)
    path = factory.Sequence(lambda n: f"app/module{n}.py")
    description = "Changes"


class SuccessCriterionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SuccessCriterion

    plan = factory.SubFactory(PlanFactory)
    position = factory.Sequence(lambda n: n)
    text = factory.Sequence(lambda n: f"Criterion {n}")


def ready_plan(**kwargs) -> Plan:
    """A draft plan that can be submitted: required sections, one step with objective and risk."""
    plan = PlanFactory(**kwargs)
    PlanStepFactory(plan=plan, position=0)
    return plan
