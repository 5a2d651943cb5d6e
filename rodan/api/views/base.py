"""What every project-scoped viewset shares: its queryset narrowed to the user's projects."""

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter

from rodan.permissions import scope

FILTERS = [DjangoFilterBackend, OrderingFilter]


class ScopedViewSet(viewsets.ModelViewSet):
    """CRUD on objects of the user's projects; others are 404, as if they did not exist.

    ``project_path`` is the ORM path from the model to its Project.
    """

    project_path = "project"
    #: Set when ``project_path`` crosses a many-valued relation, which repeats rows.
    distinct = False
    filter_backends = FILTERS

    def get_queryset(self):
        queryset = scope(self.queryset.all(), self.project_path, self.request.user)
        return queryset.distinct() if self.distinct else queryset


class ScopedReadOnlyViewSet(ScopedViewSet, viewsets.ReadOnlyModelViewSet):
    http_method_names = ["get", "head", "options"]


def fields_of(request):
    """The request body as a mapping; a JSON array, string or null is a 400 as in DRF serializers."""
    if not isinstance(request.data, dict):
        kind = type(request.data).__name__
        raise ValidationError({"non_field_errors": [f"Invalid data. Expected a dictionary, but got {kind}."]})
    return request.data
