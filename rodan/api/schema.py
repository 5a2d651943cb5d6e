"""The OpenAPI schema's error answers, documented once for every operation.

``RodanAutoSchema`` adds to each operation the errors that follow from what it
is, so that no status code a client can meet is missing from ``/api/schema/``:

- 401 everywhere: any request may carry a wrong token or password;
- 503 everywhere: the database may be restarting or unreachable;
- 400 for requests that change something (the body, or the state of the
  object, may be refused) and for filtered lists (a malformed value);
- 409 for requests that change something: what they refer to may be
  deleted by another request at the same time (its project, say);
- 404 where a path names an object (outsiders get 404 too) or a list is
  paginated (a page past the end);
- 403 where a permission class beyond "logged in" may refuse: one that
  checks the request anywhere, one that checks the object where a path
  names one.

A view declares the others it answers (409, or a 403 of its own) with
``extend_schema(responses=...)``, using ``ERRORS`` for the common shapes.

Responses also say which fields may be null: a field that reads a nullable
column, or crosses a nullable relation (a resource's ``creator``, a run's
``workflow`` once deleted), is nullable in the response components (requests
have their own, ``COMPONENT_SPLIT_REQUEST``), without repeating the model's
nullability on each serializer field.
"""

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import permissions, serializers

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
OPEN_PERMISSIONS = {permissions.AllowAny, permissions.IsAuthenticated}


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in a sentence.")


class InvalidSerializer(serializers.Serializer):
    """Messages by field name (``non_field_errors`` for the body as a whole), or a ``detail`` sentence."""

    detail = serializers.CharField(required=False)
    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)


ERRORS = {
    400: OpenApiResponse(InvalidSerializer, "The request, or the change it asks for, is invalid."),
    401: OpenApiResponse(ErrorSerializer, "No credentials, or wrong ones."),
    403: OpenApiResponse(ErrorSerializer, "The user may not do this."),
    404: OpenApiResponse(ErrorSerializer, "Nothing this user may see is there (or the page is past the end)."),
    409: OpenApiResponse(ErrorSerializer, "Refused in the object's present state; the reason is in `detail`."),
    503: OpenApiResponse(ErrorSerializer, "The database is unreachable at the moment; nothing was changed."),
}


def reads_nullable(field):
    """Whether a model serializer's field reads through a nullable column or relation."""
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or field.source == "*" or isinstance(field, serializers.ManyRelatedField):
        return False
    for name in field.source_attrs:
        try:
            model_field = model._meta.get_field(name)
        except FieldDoesNotExist:
            return False
        if model_field.one_to_many or model_field.many_to_many:
            return False  # a manager, never None
        if model_field.null:  # a reverse one-to-one is null too: no row reads as None
            return True
        if not model_field.is_relation:
            return False
        model = model_field.related_model
    return False


class RodanAutoSchema(AutoSchema):
    def _get_serializer_field_meta(self, field, direction):
        meta = super()._get_serializer_field_meta(field, direction)
        if direction == "response" and isinstance(field, serializers.Field) and reads_nullable(field):
            meta["nullable"] = True
        return meta

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is not None:
            responses = operation["responses"]
            for code in sorted(self._error_codes(operation)):
                responses.setdefault(str(code), self._get_response_for_code(ERRORS[code], str(code)))
            operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _error_codes(self, operation):
        places = {parameter["in"] for parameter in operation.get("parameters", [])}
        codes = {401, 503}
        if self.method not in SAFE_METHODS:
            codes.add(409)
        if self.method not in SAFE_METHODS or self._get_filter_parameters():
            codes.add(400)
        if "path" in places or (self._is_list_view() and self._get_paginator()):
            codes.add(404)
        if self._may_refuse(names_object="path" in places):
            codes.add(403)
        return codes

    def _may_refuse(self, names_object):
        base = permissions.BasePermission
        for permission in getattr(self.view, "permission_classes", []):
            if permission in OPEN_PERMISSIONS:
                continue
            if permission.has_permission is not base.has_permission:
                return True
            if names_object and permission.has_object_permission is not base.has_object_permission:
                return True
        return False
