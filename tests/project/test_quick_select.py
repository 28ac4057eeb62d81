"""core.widgets.QuickSelect renders exactly what Django's Select renders (it only skips the
template per option): escaping, the selected option, attributes in order, option groups."""

from django import forms

from core.widgets import QuickSelect

CHOICES = [("", "Any"), ("a<b", 'x "y" & z'), (3, "three")]


def test_the_markup_is_djangos_own():
    for value in ("", "a<b", "3", None, "not a choice"):
        for attrs in (None, {"id": "id_f", "aria-invalid": "true", "required": True,
                             "disabled": False}):
            assert (QuickSelect(choices=CHOICES).render("f", value, attrs)
                    == forms.Select(choices=CHOICES).render("f", value, attrs))


def test_option_groups_use_the_template():
    groups = [("G", [("1", "one")])]
    expected = forms.Select(choices=groups).render("f", "1")
    assert QuickSelect(choices=groups).render("f", "1") == expected
