"""`plangate status` while an amendment of an approved plan is undecided: the approved hash is
the revision approved before it, and the amendment is named with its state."""

import pytest

from tests.client.conftest import PLAN
from tests.client.fake_plangate import sha

AMENDED = PLAN + "### Step 3: Tell the user when they are blocked\n"


def amend(fake, plan_id: int, state: str) -> None:
    """What the server answers while the amendment is under review or sent back."""
    plan = fake.plans[plan_id]
    plan["status"] = {"pending": "PENDING_REVIEW", "needs_revision": "NEEDS_REVISION",
                      "draft": "DRAFT"}[state]
    plan["revision"] = {"number": 2, "sha256": sha(AMENDED), "created_at": "2026-12-02T08:00Z"}
    plan["amendment"] = {"revision": 2, "sha256": sha(AMENDED), "state": state}


@pytest.mark.parametrize(("state", "said"), [("pending", "under review"),
                                             ("needs_revision", "sent back for revision"),
                                             ("draft", "withdrawn to a draft")])
def test_status_names_the_approved_hash_and_the_amendment(plangate, fake, state, said):
    plan_id = fake.add(PLAN, status="APPROVED")
    amend(fake, plan_id, state)
    result = plangate("status", plan_id)
    assert result.code == 0
    lines = result.out.splitlines()
    assert f"Revision: 2 (sha256 {sha(AMENDED)})" in lines
    assert f"Approved sha256: {sha(PLAN)}" in lines
    assert (f"Amendment: revision 2 (sha256 {sha(AMENDED)}) {said}; the approved sha256 above "
            "stays approved until it is approved") in lines


@pytest.mark.parametrize("amendment", ["absent", None])
def test_status_without_an_amendment_says_nothing_of_one(plangate, fake, amendment):
    plan_id = fake.add(PLAN, status="APPROVED")
    if amendment is None:  # today's server says null; an older one leaves the field out
        fake.plans[plan_id]["amendment"] = None
    result = plangate("status", plan_id)
    assert result.code == 0 and f"Approved sha256: {sha(PLAN)}" in result.out
    assert "Amendment" not in result.out
