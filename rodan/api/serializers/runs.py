"""Workflow runs, run jobs, their inputs and outputs, results packages (§2.9-2.10)."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from rodan.api.fields import Link, media_url
from rodan.api.hyperlinks import RouteIdentity, RouteLink
from rodan.api.parsers import BoundedDecoder
from rodan.engine.expansion import check_runnable
from rodan.models import Input, Output, ResultsPackage, RunJob, Workflow, WorkflowRun
from rodan.models.status import RunJobStatus, RunStatus

MAX_PACKAGE_LIFETIME = timedelta(days=30)


class WorkflowRunSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="workflowrun-detail")
    project = serializers.HyperlinkedRelatedField(view_name="project-detail", read_only=True)
    workflow = Link("workflow-detail", project_path="project", queryset=Workflow.objects)
    creator = serializers.SlugRelatedField(slug_field="username", read_only=True)
    last_redone_runjob_tree = serializers.HyperlinkedRelatedField(view_name="runjob-detail", read_only=True)
    resource_assignments = serializers.JSONField(write_only=True, required=False, decoder=BoundedDecoder)

    class Meta:
        model = WorkflowRun
        fields = [
            "url", "uuid", "created", "updated", "project", "workflow", "creator", "status", "name",
            "description", "last_redone_runjob_tree", "origin_resources", "resource_assignments",
        ]
        read_only_fields = ["origin_resources"]
        extra_kwargs = {"status": {"required": False}}

    def validate_status(self, status):
        if self.instance is None and status != RunStatus.REQUEST_PROCESSING:
            raise serializers.ValidationError("Can only create a WorkflowRun that requests processing.")
        return status

    def validate_workflow(self, workflow):
        if self.instance is None:
            try:
                check_runnable(workflow)
            except ValueError as exc:
                raise serializers.ValidationError(str(exc)) from None
        return workflow

    def validate(self, attrs):
        if self.instance is None and "resource_assignments" not in attrs:
            raise serializers.ValidationError({"resource_assignments": ["This field is required"]})
        return attrs


class RunJobSerializer(serializers.HyperlinkedModelSerializer):
    """Runs list thousands of these, so every link reverses its route once per request."""

    url = RouteIdentity(view_name="runjob-detail")
    job = RouteLink(view_name="job-detail", read_only=True)
    workflow_run = RouteLink(view_name="workflowrun-detail", read_only=True)
    project = RouteLink(source="workflow_run.project", view_name="project-detail", read_only=True)
    inputs = RouteLink(view_name="input-detail", many=True, read_only=True)
    outputs = RouteLink(view_name="output-detail", many=True, read_only=True)
    working_user = RouteLink(view_name="user-detail", read_only=True)
    interactive_acquire = serializers.SerializerMethodField()

    class Meta:
        model = RunJob
        fields = [
            "url", "uuid", "job", "job_name", "workflow_run", "project", "workflow_job_uuid", "resource_uuid",
            "inputs", "outputs", "job_settings", "status", "created", "updated", "error_summary",
            "error_details", "working_user", "working_user_expiry", "interactive_acquire",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_interactive_acquire(self, run_job):
        if run_job.status != RunJobStatus.WAITING_FOR_INPUT:
            return None
        return self.context["request"].build_absolute_uri(f"/api/interactive/{run_job.pk}/acquire/")


class InputSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="input-detail")
    input_port_type = serializers.HyperlinkedRelatedField(view_name="inputporttype-detail", read_only=True)
    run_job = serializers.HyperlinkedRelatedField(view_name="runjob-detail", read_only=True)
    resource = serializers.HyperlinkedRelatedField(view_name="resource-detail", read_only=True)

    class Meta:
        model = Input
        fields = ["url", "uuid", "input_port_type_name", "input_port_type", "run_job", "resource"]
        read_only_fields = fields


class OutputSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="output-detail")
    output_port_type = serializers.HyperlinkedRelatedField(view_name="outputporttype-detail", read_only=True)
    run_job = serializers.HyperlinkedRelatedField(view_name="runjob-detail", read_only=True)
    resource = serializers.HyperlinkedRelatedField(view_name="resource-detail", read_only=True)

    class Meta:
        model = Output
        fields = ["url", "uuid", "output_port_type_name", "output_port_type", "run_job", "resource"]
        read_only_fields = fields


class ResultsPackageSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="resultspackage-detail")
    workflow_run = Link("workflowrun-detail", project_path="project", queryset=WorkflowRun.objects)
    creator = serializers.SlugRelatedField(slug_field="username", read_only=True)
    package_url = serializers.SerializerMethodField()

    class Meta:
        model = ResultsPackage
        fields = [
            "url", "uuid", "created", "status", "percent_completed", "workflow_run", "packaging_mode", "creator",
            "error_summary", "error_details", "expiry_time", "package_url",
        ]
        read_only_fields = ["percent_completed", "error_summary", "error_details"]
        extra_kwargs = {"status": {"required": False}, "packaging_mode": {"required": True}}

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_package_url(self, package):
        from rodan.packages import package_relative_path

        if package.status != RunJobStatus.FINISHED:
            return None
        # Rodan's URL has a double slash after /uploads/; clients may rely on it.
        return media_url(self.context["request"], "/" + package_relative_path(package))

    def validate_status(self, status):
        if self.instance is None and status != RunJobStatus.PROCESSING:
            raise serializers.ValidationError("Invalid status on creation")
        if self.instance is not None and (
            status != RunJobStatus.CANCELLED
            or self.instance.status not in (RunJobStatus.SCHEDULED, RunJobStatus.PROCESSING)
        ):
            raise serializers.ValidationError("Invalid status update")
        return status

    def validate_packaging_mode(self, mode):
        if mode not in (0, 1, 2):
            raise serializers.ValidationError("Packaging mode must be 0, 1 or 2.")
        return mode

    def validate_expiry_time(self, expiry):
        """Within the next 30 days (a past one would also render with the local zone's old offsets, not RFC 3339)."""
        if expiry is not None and expiry > timezone.now() + MAX_PACKAGE_LIFETIME:
            raise serializers.ValidationError("The expiry time must be at most 30 days away.")
        if expiry is not None and expiry < timezone.now():
            raise serializers.ValidationError("The expiry time must be in the future.")
        return expiry

    def validate(self, attrs):
        if self.instance is not None and set(attrs) - {"status", "expiry_time"}:
            raise serializers.ValidationError("Only the status and the expiry time of a package can change.")
        return attrs
