import pytest

from tests.factories import AuthorFactory, ReviewerFactory


@pytest.fixture
def people(committing):
    """An author and a reviewer, created as committed (their own on-commit work run)."""
    return committing(lambda: (AuthorFactory(username="alice"), ReviewerFactory(username="rob")))
