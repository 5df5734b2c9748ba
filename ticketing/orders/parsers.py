"""The checkout API's JSON parser: DRF's, through the project's `parse_json` (see
ticketing/inputs.py), so a NUL or a body nested too deep is a 400 `malformed_json`, not a 500."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from ticketing.inputs import BadJSON, parse_json


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return parse_json(stream.read())
        except BadJSON as error:
            raise ParseError(str(error)) from None
