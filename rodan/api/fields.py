"""Serializer fields shared by the API: hyperlinks scoped to the user's projects, JSON columns."""

from django.db import models
from rest_framework import serializers

from rodan import file_access
from rodan.permissions import scope


class JSONField(serializers.JSONField):
    """DRF's, but a form's ``null`` is refused as a JSON ``null`` is.

    DRF checks for null before it decodes a form value, so the text "null"
    would reach a NOT NULL column (a 500) instead of answering 400.
    """

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value is None and not self.allow_null:
            self.fail("null")
        return value


#: For model serializers with JSON columns: ``serializer_field_mapping = JSON_MAPPING``.
JSON_MAPPING = {**serializers.ModelSerializer.serializer_field_mapping, models.JSONField: JSONField}


class Link(serializers.HyperlinkedRelatedField):
    """An absolute hyperlink; on input a full URL or a path (the host is ignored).

    With ``project_path`` the objects it accepts are limited to the requesting
    user's projects, so a reference to someone else's object reads as
    "Invalid hyperlink - Object does not exist." and reveals nothing.
    """

    def __init__(self, view_name, project_path=None, **kwargs):
        self.project_path = project_path
        super().__init__(view_name=view_name, **kwargs)

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.project_path is not None and queryset is not None:
            request = self.context.get("request")
            queryset = scope(queryset, self.project_path, getattr(request, "user", None))
        return queryset


def media_url(request, relative_path):
    """Absolute, signed URL of a file under MEDIA_ROOT, as served at ``/uploads/`` (``rodan.file_access``)."""
    if not relative_path:
        return None
    return request.build_absolute_uri(file_access.link(relative_path))


def username_list():
    return serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)
