"""User text: stored as sent, lengths in code points, NUL and unpaired surrogates refused.

`validate_text` is the one check for every path that takes text (serializers, the socket,
services); `TextField` is DRF's CharField with it, without trimming and without coercing
numbers to strings.
"""

from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from rest_framework import serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator

SURROGATES = range(0xD800, 0xE000)


def validate_text(value: str) -> None:
    """Refuse NUL characters and unpaired surrogates (JSON decoding joins paired ones)."""
    if "\x00" in value:
        raise ValidationError("Null characters are not allowed.", code="null_characters")
    if any(ord(char) in SURROGATES for char in value):
        raise ValidationError("Unpaired surrogate characters are not allowed.", code="surrogates")


class TextField(serializers.CharField):
    """A text input kept exactly as sent; only strings are accepted."""

    REPLACED_VALIDATORS = (ProhibitNullCharactersValidator, ProhibitSurrogateCharactersValidator)

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)
        self.validators = [
            validator
            for validator in self.validators
            if not isinstance(validator, self.REPLACED_VALIDATORS)
        ] + [validate_text]

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return data
