import pytest

from tests.factories import AuthorFactory, ReviewerFactory


@pytest.fixture
def committing(django_capture_on_commit_callbacks):
    """Run a change and its on-commit callbacks (delivery included), as its commit would."""
    def run(change):
        with django_capture_on_commit_callbacks(execute=True):
            return change()
    return run


@pytest.fixture
def people(committing):
    """An author and a reviewer, created as committed (their own on-commit work run)."""
    return committing(lambda: (AuthorFactory(username="alice"), ReviewerFactory(username="rob")))
