"""The admin's review policy form states the bounds that really apply (1 to MAX_APPROVALS), the
ones its help text promises, not PositiveIntegerField's 0."""

import pytest

from reviews.models import MAX_APPROVALS, ReviewPolicy

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    return client


def _change(client, **counts):
    policy = ReviewPolicy.objects.get()
    return client.post(f"/admin/reviews/reviewpolicy/{policy.pk}/change/", {
        "name": "Default", "min_approvals": 1, "high_risk_min_approvals": 2, **counts})


@pytest.mark.parametrize("field", ["min_approvals", "high_risk_min_approvals"])
@pytest.mark.parametrize("value", [-1, 0])
def test_a_count_below_one_says_at_least_one(admin_client, field, value):
    response = _change(admin_client, **{field: value})
    assert response.status_code == 200  # the form again, nothing saved
    errors = response.context["adminform"].form.errors[field]
    assert errors == ["Ensure this value is greater than or equal to 1."]
    assert ReviewPolicy.objects.get().min_approvals == 1


def test_the_inputs_carry_the_real_bounds(admin_client):
    policy = ReviewPolicy.objects.get()
    form = admin_client.get(f"/admin/reviews/reviewpolicy/{policy.pk}/change/").context[
        "adminform"].form
    for field in ("min_approvals", "high_risk_min_approvals"):  # the browser's min and max
        assert form.fields[field].widget.attrs == {"min": 1, "max": MAX_APPROVALS}


def test_a_valid_change_still_saves(admin_client):
    assert _change(admin_client, min_approvals=2, high_risk_min_approvals=3).status_code == 302
    assert ReviewPolicy.objects.get().min_approvals == 2
