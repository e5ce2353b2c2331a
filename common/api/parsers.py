"""A JSON parser for untrusted bodies: bounded nesting, no NaN or Infinity, no NUL characters.

Each of these used to reach the database or the recursion limit and answer 500; they are refused as
400 before any view runs. `loads` is the same rule for JSON carried inside a form field.
"""

import codecs
import json

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows.")


def _check(value, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels.")
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("Text may not contain NUL (\\u0000) characters.")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check(key, depth + 1)
            _check(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check(item, depth + 1)


def loads(text: str):
    """json.loads with the rules above; raises ValueError with a message fit for the client."""
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels.") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"JSON parse error: {error.msg} at line {error.lineno} column {error.colno}.") from None
    _check(value, 0)
    return value


class SafeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
        except (UnicodeDecodeError, LookupError) as error:
            raise ParseError(f"Body is not valid {encoding} text.") from error
        try:
            return loads(text)
        except ValueError as error:
            raise ParseError(str(error)) from None
