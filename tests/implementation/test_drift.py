"""Planned paths as globs with git's meaning, and the comparison the drift report is made of."""

import pytest

from implementation.drift import PlannedFile, compare, matches


@pytest.mark.parametrize(("path", "pattern", "expected"), [
    ("app/a.py", "app/a.py", True),
    ("app/a.py", "`app/a.py`", True),  # as written in a plan's Files list
    ("app/a.py", "./app/a.py", True),
    ("app/ab.py", "app/a.py", False),
    ("app/a.py", "app/*.py", True),
    ("app/x/a.py", "app/*.py", False),  # * stays inside one folder
    ("tests/test_a.py", "tests/**", True),
    ("tests/deep/er/test_a.py", "tests/**", True),
    ("tests.py", "tests/**", False),
    ("conftest.py", "**/conftest.py", True),
    ("a/b/conftest.py", "**/conftest.py", True),
    ("src/a/b/c.py", "src/**/c.py", True),
    ("src/c.py", "src/**/c.py", True),
    ("app/a1.py", "app/a[0-9].py", True),
    ("app/ab.py", "app/a[!b].py", False),
    ("app/x/y.py", "app/", True),  # a folder covers what is under it
    ("app/x/y.py", "app", True),
    ("application.py", "app", False),
    ("app/[z-a].py", "app/[z-a].py", True),  # not a valid range: that very path, not an error
    ("app/b.py", "app/[z-a].py", False),
])
def test_planned_paths_are_globs(path, pattern, expected):
    assert matches(path, pattern) is expected


def test_compare_sorts_changed_files_into_steps_unplanned_and_untouched():
    planned = [PlannedFile("app/a.py", 1, "One"), PlannedFile("tests/**", 1, "One"),
               PlannedFile("app/b.py", 2, "Two"), PlannedFile("app/*.py", 3, "Three")]
    result = compare(["docs/x.md", "app/a.py", "tests/t.py", "app/a.py"], planned)
    assert result.changed == ["app/a.py", "docs/x.md", "tests/t.py"]
    assert result.matches == {"app/a.py": [1, 3], "tests/t.py": [1]}
    assert result.unplanned == ["docs/x.md"] and not result.clear
    assert result.untouched == ["app/b.py"]
    assert compare([], planned).untouched == ["app/a.py", "tests/**", "app/b.py", "app/*.py"]
