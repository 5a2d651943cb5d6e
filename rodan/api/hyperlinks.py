"""Hyperlink fields that reverse a route once per request, not once per object.

Long lists (a run's RunJobs: five or more links a row) spent most of their
time in ``reverse()``. The first link of a route is reversed in full, with
the request's host, format suffix and preserved ``?format=``; the text around
the object's key is kept and later keys are put in its place. A route whose
URL holds the key's text more than once (small integer keys under a numeric
host) is reversed every time, so the links are always the same text.
"""

from rest_framework import serializers


class _OncePerRoute:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._around = {}  # (view name, format) -> (request, text before the key, text after it)

    def get_url(self, obj, view_name, request, format):
        key = getattr(obj, "pk", None)
        if key in (None, "") or self.lookup_field != "pk":
            return super().get_url(obj, view_name, request, format)
        text = str(key)
        known = self._around.get((view_name, format))
        if known is not None and known[0] is request:
            return known[1] + text + known[2]
        url = super().get_url(obj, view_name, request, format)
        if url.count(text) == 1:
            before, _, after = url.partition(text)
            self._around[(view_name, format)] = (request, before, after)
        return url


class RouteLink(_OncePerRoute, serializers.HyperlinkedRelatedField):
    """A read-only HyperlinkedRelatedField with the route reversed once per request."""


class RouteIdentity(_OncePerRoute, serializers.HyperlinkedIdentityField):
    """A HyperlinkedIdentityField with the route reversed once per request."""
