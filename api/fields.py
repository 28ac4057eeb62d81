"""Strict input for the API's serializers: free text must be a JSON string, a choice names the
valid ones, a commit says what a commit looks like."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.fields import ProhibitNullCharactersValidator

COMMIT = r"^[0-9a-fA-F]{7,40}$"


class TextField(serializers.CharField):
    """Free text (a title, a body, a comment): a JSON string only. DRF's CharField turns a
    number into its digits, which for text like this is certainly a client's bug."""

    default_error_messages = {"not_a_string": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class MarkdownField(TextField):
    """Plan text exactly as sent: not trimmed, and a NUL character left for the importer, which
    refuses it with its line number (plans.markdown.MarkdownImportError -> 400 "lines"). Text
    that is only whitespace is blank, and refused, as the web import refuses an empty paste
    (``whitespace_is_blank=False``: only "" is, for a text that is compared, not imported)."""

    default_error_messages = {
        "not_a_string": "Must be a string of Markdown.",
        "blank": "Markdown is required: the plan's text is empty.",
        "required": "Markdown is required: the plan's text.",
    }

    def __init__(self, *, whitespace_is_blank: bool = True, **kwargs):
        self.whitespace_is_blank = whitespace_is_blank
        super().__init__(trim_whitespace=False, **kwargs)
        self.validators = [v for v in self.validators
                           if not isinstance(v, ProhibitNullCharactersValidator)]

    def run_validation(self, data=serializers.empty):
        # CharField checks blankness only on the trimmed text when it trims; this one keeps
        # the text as sent, so it checks here.
        if (self.whitespace_is_blank and isinstance(data, str) and data and not data.strip()
                and not self.allow_blank):
            self.fail("blank")
        return super().run_validation(data)


class CommitField(serializers.RegexField):
    """A git commit SHA, abbreviated or whole."""

    default_error_messages = {
        "invalid": "A commit is a 7 to 40 character hexadecimal git SHA (e.g. 3f9c2ab).",
    }

    def __init__(self, **kwargs):
        super().__init__(COMMIT, **kwargs)


class InputSerializer(serializers.Serializer):
    """The base of every input serializer: a value that is not one of a choice field's choices
    is answered with the valid ones (DRF's message names only the value sent)."""

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            if isinstance(field, serializers.ChoiceField) and field.choices:
                valid = [str(choice) for choice in field.choices if choice != ""]
                names = ", ".join(valid[:-1]) + (" or " if len(valid) > 1 else "") + valid[-1]
                names = names.replace("{", "{{").replace("}", "}}")  # the message is a format
                field.error_messages["invalid_choice"] = (
                    f'"{{input}}" is not a valid choice: choose {names}.')
        return fields
