"""JSON bodies within bounds: too large or nested too deep is a 400 with a sentence, not a 500.

Python's decoder recurses once per level and raises RecursionError about a
thousand levels down; ``RODAN_MAX_JSON_DEPTH`` stops well before that, so
whatever walks a document afterwards (validation, import, the JSON columns,
rendering) stays shallow too. ``RODAN_MAX_JSON_BYTES`` bounds what the REST
routes decode: a document becomes Python objects many times its size.
"""

import json

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils.json import strict_constant


class JSONBoundError(ValueError):
    """A JSON text over one of the configured bounds."""


def _too_deep():
    limit = settings.RODAN_MAX_JSON_DEPTH
    return JSONBoundError(f"The JSON is nested deeper than {limit} levels (RODAN_MAX_JSON_DEPTH).")


def _deeper_than(value, limit):
    """Whether arrays and objects nest more than ``limit`` levels in ``value`` (without recursion)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


class BoundedDecoder(json.JSONDecoder):
    """``json.loads(text, cls=BoundedDecoder)``: a document nested too deep raises JSONBoundError."""

    def decode(self, s, *args, **kwargs):
        try:
            value = super().decode(s, *args, **kwargs)
        except RecursionError:
            raise _too_deep() from None
        if isinstance(value, (dict, list)) and _deeper_than(value, settings.RODAN_MAX_JSON_DEPTH):
            raise _too_deep()
        return value


def loads(text):
    """Parse JSON as the API does: bounded depth, no NaN or Infinity."""
    return json.loads(text, cls=BoundedDecoder, parse_constant=strict_constant)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, within RODAN_MAX_JSON_BYTES and RODAN_MAX_JSON_DEPTH."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        limit = settings.RODAN_MAX_JSON_BYTES
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise ParseError(f"The JSON body is larger than the limit of {limit} bytes (RODAN_MAX_JSON_BYTES).")
        try:
            return loads(raw.decode(encoding))
        except JSONBoundError as exc:
            raise ParseError(str(exc)) from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
