"""Jobs, port types and resource types: read-only, open to anyone (§2.4)."""

from rest_framework import permissions, viewsets

from rodan.api import filters
from rodan.api.serializers import registry as s
from rodan.api.views.base import FILTERS
from rodan.models import InputPortType, Job, OutputPortType, ResourceType


class RegistryViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [permissions.AllowAny]
    filter_backends = FILTERS
    unpaginated_param = "disable_pagination"


class JobViewSet(RegistryViewSet):
    queryset = Job.objects.prefetch_related("input_port_types__resource_types", "output_port_types__resource_types")
    serializer_class = s.JobSerializer
    filterset_class = filters.JobFilter
    ordering_fields = ["category", "name", "enabled", "interactive"]


class InputPortTypeViewSet(RegistryViewSet):
    queryset = InputPortType.objects.prefetch_related("resource_types")
    serializer_class = s.InputPortTypeSerializer
    filterset_class = filters.InputPortTypeFilter
    ordering_fields = ["name", "minimum", "maximum"]


class OutputPortTypeViewSet(RegistryViewSet):
    queryset = OutputPortType.objects.prefetch_related("resource_types")
    serializer_class = s.OutputPortTypeSerializer
    filter_backends = []  # Rodan's OutputPortType list takes no filters or ordering


class ResourceTypeViewSet(RegistryViewSet):
    queryset = ResourceType.objects.all()
    serializer_class = s.ResourceTypeSerializer
    filterset_class = filters.ResourceTypeFilter
    ordering_fields = ["mimetype", "extension"]
