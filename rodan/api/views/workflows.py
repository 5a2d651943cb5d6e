"""Workflows (create, import, export, validate) and their jobs, groups, ports and connections."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from rodan import workflows
from rodan.api import filters
from rodan.api.links import resolve_link
from rodan.api.serializers import workflows as s
from rodan.api.serializers.resources import ResourceSerializer
from rodan.api.views.base import ScopedViewSet, fields_of
from rodan.engine.serialization import export_workflow
from rodan.engine.validation import WorkflowInvalid, validate_workflow
from rodan.models import Connection, InputPort, OutputPort, Resource, Workflow, WorkflowJob, WorkflowJobGroup
from rodan.permissions import scope

#: Where each kind of object named by a failed validation lives in the API.
ASSOCIATED_VIEWS = {
    "workflowjobs": "workflowjob",
    "inputports": "inputport",
    "outputports": "outputport",
    "inputporttypes": "inputporttype",
    "outputporttypes": "outputporttype",
    "connections": "connection",
}


def _truthy(value):
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _remove(part):
    """DELETE of a workflow's job or port: 204, or 400 when its group keeps it."""
    try:
        workflows.remove(part)
    except workflows.GroupedJobError as exc:
        return Response({"detail": str(exc)}, status=400)
    return Response(status=status.HTTP_204_NO_CONTENT)


INVALID_WORKFLOW = OpenApiResponse(
    inline_serializer(
        "WorkflowInvalid",
        {
            "error_code": serializers.CharField(),
            "details": serializers.ListField(child=serializers.CharField()),
            "associated_objects": serializers.DictField(child=serializers.ListField(child=serializers.URLField())),
        },
    ),
    "`valid: true` was asked and the workflow is not valid: why, and the objects at fault.",
)
UPDATED_WORKFLOW = extend_schema(responses={200: s.WorkflowDetailSerializer, 409: INVALID_WORKFLOW})


@extend_schema_view(update=UPDATED_WORKFLOW, partial_update=UPDATED_WORKFLOW)
class WorkflowViewSet(ScopedViewSet):
    queryset = Workflow.objects.select_related("creator", "project")
    filterset_class = filters.WorkflowFilter
    ordering_fields = ["name", "created", "updated", "valid", "creator"]

    def get_serializer_class(self):
        return s.WorkflowSerializer if self.action in ("list", "create") else s.WorkflowDetailSerializer

    def perform_create(self, serializer):
        serializer.save(creator=self.request.user)

    def retrieve(self, request, *args, **kwargs):
        """``?export`` (any value) returns the workflow as a serialized document (§5.1)."""
        if "export" in request.query_params:
            return Response(export_workflow(self.get_object()))
        return super().retrieve(request, *args, **kwargs)

    def update(self, request, *args, **kwargs):
        """Fields change as usual; ``valid: true`` runs validation, which answers 409 on failure."""
        fields = fields_of(request)
        data = {key: fields[key] for key in fields}  # a form's last value per key, like DRF
        wants_valid = data.pop("valid", None)
        if wants_valid is not None and not _truthy(wants_valid):
            return Response({"valid": "Cannot invalidate a Workflow."}, status=400)
        workflow = self.get_object()
        serializer = self.get_serializer(workflow, data=data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        serializer.save()
        if wants_valid is not None:
            try:
                validate_workflow(workflow)
            except WorkflowInvalid as exc:
                return Response(self._invalid(exc), status=status.HTTP_409_CONFLICT)
        workflow.refresh_from_db()
        return Response(self.get_serializer(workflow).data)

    def _invalid(self, exc):
        build = self.request.build_absolute_uri
        return {
            "error_code": exc.error_code,
            "details": exc.details,
            "associated_objects": {
                kind: [build(f"/api/{ASSOCIATED_VIEWS[kind]}/{obj.pk}/") for obj in objects]
                for kind, objects in exc.associated_objects.items()
            },
        }


class WorkflowJobViewSet(ScopedViewSet):
    queryset = WorkflowJob.objects.select_related("job", "workflow").prefetch_related("input_ports", "output_ports")
    serializer_class = s.WorkflowJobSerializer
    project_path = "workflow__project"
    filterset_class = filters.WorkflowJobFilter
    ordering_fields = ["name", "created", "updated"]

    def destroy(self, request, *args, **kwargs):
        return _remove(self.get_object())


class WorkflowJobGroupViewSet(ScopedViewSet):
    """Groups of jobs; deleting one only ungroups its jobs."""

    queryset = WorkflowJobGroup.objects.select_related("workflow").order_by("created")
    serializer_class = s.WorkflowJobGroupSerializer
    project_path = "workflow__project"
    filterset_class = filters.WorkflowJobGroupFilter
    ordering_fields = ["name", "created", "updated"]


class _PortViewSet(ScopedViewSet):
    project_path = "workflow_job__workflow__project"

    def destroy(self, request, *args, **kwargs):
        return _remove(self.get_object())


class InputPortViewSet(_PortViewSet):
    queryset = InputPort.objects.select_related("workflow_job__workflow", "input_port_type")
    serializer_class = s.InputPortSerializer
    filterset_class = filters.InputPortFilter
    ordering_fields = ["label"]


class OutputPortViewSet(_PortViewSet):
    queryset = OutputPort.objects.select_related("workflow_job__workflow", "output_port_type")
    serializer_class = s.OutputPortSerializer
    filterset_class = filters.OutputPortFilter
    ordering_fields = ["label"]


class ConnectionViewSet(ScopedViewSet):
    queryset = Connection.objects.select_related("input_port__workflow_job", "output_port__workflow_job").order_by(
        "uuid"
    )
    serializer_class = s.ConnectionSerializer
    project_path = "input_port__workflow_job__workflow__project"
    filterset_class = filters.ConnectionFilter
    ordering_fields = ["uuid"]

    def perform_destroy(self, connection):
        workflows.remove(connection)


class ResourceAssignments(APIView):
    """``workflow/<u>/resourceassignments/``: the builder's chosen resources per input port.

    UI state only; a run takes its own ``resource_assignments``. GET lists every
    input port of the workflow; PATCH replaces the named ports' lists, PUT
    first clears all, DELETE clears all; each replies in the GET shape.
    Ports or resources the user cannot see, or of another workflow, are 404.
    """

    def get_workflow(self, pk):
        return get_object_or_404(scope(Workflow.objects.all(), "project", self.request.user), pk=pk)

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, pk, format=None):
        return Response(self._shape(self.get_workflow(pk)))

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def patch(self, request, pk, format=None, clear=False):
        workflow = self.get_workflow(pk)
        assignments = {} if clear else dict(workflow.resource_assignments)
        for port_url, resource_urls in fields_of(request).items():
            try:
                port = resolve_link(port_url, request.user, {"inputport-detail"})
                if not isinstance(resource_urls, list):
                    resource_urls = [resource_urls]
                resources = [resolve_link(url, request.user, {"resource-detail"}) for url in resource_urls]
            except ValueError as exc:
                raise NotFound(str(exc)) from None
            if port.workflow_job.workflow_id != workflow.pk:
                raise NotFound("The InputPort is not in this workflow.")
            assignments[port.pk.hex] = [resource.pk.hex for resource in resources]
        workflow.resource_assignments = assignments
        workflow.save(update_fields=["resource_assignments", "updated"])
        return Response(self._shape(workflow))

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def put(self, request, pk, format=None):
        return self.patch(request, pk, format, clear=True)

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def delete(self, request, pk, format=None):
        workflow = self.get_workflow(pk)
        workflow.resource_assignments = {}
        workflow.save(update_fields=["resource_assignments", "updated"])
        return Response(self._shape(workflow))

    def _shape(self, workflow):
        """{port URL: [Resource representations]} for every input port; vanished resources are left out."""
        chosen = workflow.resource_assignments or {}
        wanted = {hex_id for ids in chosen.values() for hex_id in ids}
        resources = {r.pk.hex: r for r in Resource.objects.filter(pk__in=wanted, project=workflow.project_id)}
        context = {"request": self.request}
        shape = {}
        for port in InputPort.objects.filter(workflow_job__workflow=workflow).order_by("uuid"):
            picked = [resources[hex_id] for hex_id in chosen.get(port.pk.hex, []) if hex_id in resources]
            url = self.request.build_absolute_uri(f"/api/inputport/{port.pk}/")
            shape[url] = ResourceSerializer(picked, many=True, context=context).data
        return shape
