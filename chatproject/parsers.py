"""DRF's JSON parser, answering JSON nested too deep for Python's parser as invalid JSON."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """A body like `[[[[...]]]]` nested past the recursion limit made `json` raise
    RecursionError, which DRF's parser does not catch: a 500 for 200 KB of brackets."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.")
