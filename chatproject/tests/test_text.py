import pytest
from django.core.exceptions import ValidationError
from rest_framework import serializers

from chatproject.text import TextField, validate_text


class NoteSerializer(serializers.Serializer):
    note = TextField(max_length=5)


@pytest.mark.parametrize("value", ["a\x00b", "\ud83d", "x\udc00y"])
def test_nul_and_unpaired_surrogates_are_refused(value):
    with pytest.raises(ValidationError):
        validate_text(value)


@pytest.mark.parametrize("value", ["", "plain", "😀 emoji", "\ttabs\n"])
def test_other_text_passes(value):
    validate_text(value)


def test_the_field_keeps_text_as_sent_and_counts_code_points():
    serializer = NoteSerializer(data={"note": " 😀😀 "})
    assert serializer.is_valid()
    assert serializer.validated_data["note"] == " 😀😀 "


@pytest.mark.parametrize("value", ["a\x00", "\ud800", 12, ["a"], "toolong"])
def test_the_field_refuses_bad_values_with_one_message(value):
    serializer = NoteSerializer(data={"note": value})
    assert not serializer.is_valid()
    assert len(serializer.errors["note"]) == 1
