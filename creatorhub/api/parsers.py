"""The API's request parsers: DRF's, with JSON nested too deep for Python's parser a 400 like any other
malformed JSON (DRF's own JSONParser lets the RecursionError through: a 500)."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the JSON is nested too deeply.") from None
