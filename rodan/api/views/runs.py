"""Workflow runs (create with resource assignments, cancel, retry, redo), run jobs,
inputs, outputs and results packages (§2.9-2.10, §5.2)."""

from urllib.parse import urlparse

from django.db import transaction
from django.db.models import Prefetch
from django.urls import Resolver404, resolve
from django.utils import timezone
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from rodan.api import filters
from rodan.api.links import resolve_link
from rodan.packages import build_package, package_path
from rodan.api.serializers import runs as s
from rodan.api.views.base import ScopedReadOnlyViewSet, ScopedViewSet, fields_of
from rodan.engine import control, lifecycle
from rodan.engine.expansion import AssignmentError, create_run
from rodan.models import Input, Output, ResultsPackage, RunJob, WorkflowRun
from rodan.models.status import RunJobStatus, RunStatus


def resolve_assignments(value, user):
    """``{port URL: [resource or list URL]}`` as ``{InputPort: [objects]}``; AssignmentError for a bad link.

    Only the links are resolved here; ``create_run`` judges the assignments,
    so a value of the wrong shape is passed on for it to report.
    """
    if not isinstance(value, dict):
        return value
    assignments = {}
    for port_url, items in value.items():
        try:
            port = resolve_link(port_url, user, {"inputport-detail"})
        except ValueError as exc:
            raise AssignmentError({port_url: [str(exc)]}) from None
        if port in assignments:
            raise AssignmentError({port_url: ["Assigned InputPort must be unsatisfied"]})
        if not isinstance(items, list):
            assignments[port] = items
            continue
        resolved = []
        for index, item in enumerate(items):
            try:
                resolved.append(resolve_link(item, user, {"resource-detail", "resourcelist-detail"}))
            except ValueError as exc:
                raise AssignmentError({port_url: {index: [str(exc)]}}) from None
        assignments[port] = resolved
    return assignments


class WorkflowRunViewSet(ScopedViewSet):
    queryset = WorkflowRun.objects.select_related("creator", "project", "workflow")
    serializer_class = s.WorkflowRunSerializer
    filterset_class = filters.WorkflowRunFilter
    ordering_fields = ["name", "created", "updated", "status", "creator"]

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        url = lambda port: request.build_absolute_uri(f"/api/inputport/{port.pk}/")  # noqa: E731
        try:
            assignments = resolve_assignments(data["resource_assignments"], request.user)
            run = create_run(
                data["workflow"], assignments, creator=request.user, name=data.get("name", ""),
                description=data.get("description"), key=url,
            )
        except AssignmentError as exc:
            return Response({"resource_assignments": exc.detail}, status=400)
        body = self.get_serializer(run).data
        if data.get("status") == RunStatus.REQUEST_PROCESSING:
            body["status"] = RunStatus.REQUEST_PROCESSING  # Rodan echoes the requested status
        return Response(body, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        """``status`` 29 cancels, 31 retries; ``last_redone_runjob_tree`` redoes from a RunJob."""
        run = self.get_object()
        fields = fields_of(request)
        data = {key: fields[key] for key in fields}
        requested = data.pop("status", None)
        redo = data.pop("last_redone_runjob_tree", None)
        changes = {key: data[key] for key in ("name", "description") if key in data}
        serializer = self.get_serializer(run, data=changes, partial=True)
        serializer.is_valid(raise_exception=True)
        if changes:  # saved before the engine rewrites the run, so the stale copy cannot undo it
            serializer.save()
        if requested is not None:
            operation = {
                str(RunStatus.REQUEST_CANCELLING): lifecycle.cancel_run,
                str(RunStatus.REQUEST_RETRYING): lifecycle.retry_run,
            }.get(str(requested))
            if operation is None:
                return Response({"status": ["Invalid status update"]}, status=400)
            try:
                operation(run)
            except lifecycle.InvalidTransition:
                return Response({"status": ["Invalid status update"]}, status=400)
        if redo is not None:
            error = self._redo(run, redo)
            if error:
                return Response({"last_redone_runjob_tree": [error]}, status=400)
        run.refresh_from_db()
        body = self.get_serializer(run).data
        if requested is not None:
            body["status"] = int(requested)  # Rodan echoes the requested status
        return Response(body)

    def _redo(self, run, url):
        try:
            match = resolve(urlparse(str(url)).path)
        except Resolver404:
            return "Invalid hyperlink - No URL match."
        if match.url_name != "runjob-detail":
            return "Invalid hyperlink - Incorrect URL match."
        run_job = RunJob.objects.filter(pk=match.kwargs["pk"], workflow_run=run).first()
        if run_job is None:
            return "Requested RunJob is not in this WorkflowRun."
        try:
            control.redo_from(run_job)
        except lifecycle.InvalidTransition as exc:
            return str(exc)
        return None

    def perform_destroy(self, run):
        """Stop whatever still runs (workers notice through their heartbeat), then delete."""
        with transaction.atomic():
            lifecycle.stop_for_deletion(run)
            run.delete()


class RunJobViewSet(ScopedReadOnlyViewSet):
    #: Only the keys of linked objects are shown: the run (for its project's key) without its long
    #: columns, the inputs' and outputs' keys, and no Job or User rows (a Job's settings, a run's
    #: origin resources are JSON decoded again for every row that joins them).
    queryset = (
        RunJob.objects.select_related("workflow_run")
        .defer("workflow_run__origin_resources", "workflow_run__description")
        .prefetch_related(
            Prefetch("inputs", queryset=Input.objects.only("uuid", "run_job")),
            Prefetch("outputs", queryset=Output.objects.only("uuid", "run_job")),
        )
    )
    serializer_class = s.RunJobSerializer
    project_path = "workflow_run__project"
    filterset_class = filters.RunJobFilter
    ordering_fields = ["created", "updated", "status", "job_name"]


class InputViewSet(ScopedReadOnlyViewSet):
    queryset = Input.objects.select_related("run_job", "input_port_type", "resource")
    serializer_class = s.InputSerializer
    project_path = "run_job__workflow_run__project"
    filterset_class = filters.InputFilter
    ordering_fields = ["created", "input_port_type_name"]


class OutputViewSet(ScopedReadOnlyViewSet):
    queryset = Output.objects.select_related("run_job", "output_port_type", "resource")
    serializer_class = s.OutputSerializer
    project_path = "run_job__workflow_run__project"
    filterset_class = filters.OutputFilter
    ordering_fields = ["created", "output_port_type_name"]


class ResultsPackageViewSet(ScopedViewSet):
    """Packages are built as soon as they are created; only a pending one may be cancelled."""

    queryset = ResultsPackage.objects.select_related("workflow_run", "creator").order_by("-created")
    serializer_class = s.ResultsPackageSerializer
    project_path = "workflow_run__project"
    filterset_class = filters.ResultsPackageFilter
    ordering_fields = ["created", "status"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def perform_create(self, serializer):
        expiry = serializer.validated_data.get("expiry_time")
        if expiry is None and not self.request.user.is_staff:
            serializer.validated_data["expiry_time"] = timezone.now() + s.MAX_PACKAGE_LIFETIME
        package = serializer.save(creator=self.request.user, status=RunJobStatus.SCHEDULED)
        build_package(package)

    def perform_destroy(self, package):
        if package.status in (RunJobStatus.SCHEDULED, RunJobStatus.PROCESSING):
            raise ValidationError({"status": ["A package cannot be deleted while it is being built."]})
        package_path(package).unlink(missing_ok=True)
        package.delete()
