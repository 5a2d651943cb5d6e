"""Workflows and their parts (§2.7-2.8): jobs, groups, ports, connections.

Edits go through ``rodan.workflows``, which decides which of them invalidate
the workflow and what a grouped job refuses; these serializers only turn its
errors into Rodan's 400 bodies.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from rodan import workflows
from rodan.api.fields import JSON_MAPPING, Link
from rodan.api.parsers import BoundedDecoder
from rodan.engine.validation import settings_errors
from rodan.models import (
    Connection,
    InputPort,
    InputPortType,
    Job,
    OutputPort,
    OutputPortType,
    Project,
    Workflow,
    WorkflowJob,
    WorkflowJobGroup,
)
from rodan.models.workflow import default_appearance


def _domain_check(check, *args, key=None):
    """Run one of ``rodan.workflows``' checks; its refusal becomes a 400 on ``key`` (None: the object)."""
    try:
        check(*args)
    except ValueError as exc:
        raise serializers.ValidationError({key: [str(exc)]} if key else str(exc)) from None


class InputPortSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="inputport-detail")
    input_port_type = serializers.HyperlinkedRelatedField(
        view_name="inputporttype-detail", queryset=InputPortType.objects.all()
    )
    workflow_job = Link("workflowjob-detail", project_path="workflow__project", queryset=WorkflowJob.objects)
    connections = serializers.HyperlinkedRelatedField(view_name="connection-detail", many=True, read_only=True)

    class Meta:
        model = InputPort
        fields = ["url", "uuid", "input_port_type", "label", "extern", "workflow_job", "connections"]
        read_only_fields = ["extern"]
        # Rodan's client sends "label": null; the port then takes its type's name (``Port.save``).
        extra_kwargs = {"label": {"required": False, "allow_null": True}}

    def validate(self, attrs):
        _domain_check(workflows.check_not_grouped, getattr(self.instance, "workflow_job", None), key="workflow_job")
        _domain_check(workflows.check_not_grouped, attrs.get("workflow_job"), key="workflow_job")
        return attrs

    def create(self, validated_data):
        return workflows.add(self.Meta.model, **validated_data)

    def update(self, instance, validated_data):
        return workflows.change(instance, **validated_data)


class OutputPortSerializer(InputPortSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="outputport-detail")
    output_port_type = serializers.HyperlinkedRelatedField(
        view_name="outputporttype-detail", queryset=OutputPortType.objects.all()
    )
    input_port_type = None

    class Meta(InputPortSerializer.Meta):
        model = OutputPort
        fields = ["url", "uuid", "output_port_type", "label", "extern", "workflow_job", "connections"]


class ConnectionSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="connection-detail")
    input_port = Link(
        "inputport-detail", project_path="workflow_job__workflow__project", queryset=InputPort.objects
    )
    output_port = Link(
        "outputport-detail", project_path="workflow_job__workflow__project", queryset=OutputPort.objects
    )

    class Meta:
        model = Connection
        fields = ["url", "uuid", "input_port", "output_port", "offset_x", "offset_y"]

    def validate(self, attrs):
        input_port = attrs.get("input_port") or self.instance.input_port
        output_port = attrs.get("output_port") or self.instance.output_port
        if input_port.workflow_job.workflow_id != output_port.workflow_job.workflow_id:
            raise serializers.ValidationError("The InputPort is not in the same workflow as the OutputPort.")
        return attrs

    def create(self, validated_data):
        return workflows.add(Connection, **validated_data)

    def update(self, instance, validated_data):
        return workflows.change(instance, **validated_data)


def schema_defaults(schema):
    """``{property: default}`` for every property of a job's settings schema that has one."""
    properties = (schema or {}).get("properties") or {}
    return {name: spec["default"] for name, spec in properties.items() if isinstance(spec, dict) and "default" in spec}


class WorkflowJobSerializer(serializers.HyperlinkedModelSerializer):
    serializer_field_mapping = JSON_MAPPING

    url = serializers.HyperlinkedIdentityField(view_name="workflowjob-detail")
    workflow = Link("workflow-detail", project_path="project", queryset=Workflow.objects)
    job = serializers.HyperlinkedRelatedField(view_name="job-detail", queryset=Job.objects.all())
    job_name = serializers.CharField(source="job.name", read_only=True)
    job_description = serializers.CharField(source="job.description", read_only=True)
    group = serializers.HyperlinkedRelatedField(view_name="workflowjobgroup-detail", read_only=True)
    input_ports = InputPortSerializer(many=True, read_only=True)
    output_ports = OutputPortSerializer(many=True, read_only=True)

    class Meta:
        model = WorkflowJob
        fields = [
            "url", "uuid", "created", "updated", "workflow", "job", "job_name", "job_description",
            "job_settings", "name", "group", "input_ports", "output_ports", "appearance",
        ]
        extra_kwargs = {"name": {"required": False}, "job_settings": {"required": False, "decoder": BoundedDecoder}}

    def validate(self, attrs):
        if self.instance is not None:
            _domain_check(workflows.check_not_grouped, self.instance, attrs)
        job = attrs.get("job") or self.instance.job
        if "job_settings" in attrs or self.instance is None:
            settings = attrs.get("job_settings")
            if settings is None and self.instance is None:
                settings = schema_defaults(job.settings)
            elif settings is None:
                settings = self.instance.job_settings
            errors = settings_errors(job.settings, settings)
            if errors:
                raise serializers.ValidationError({"job_settings": errors})
            attrs["job_settings"] = settings
        return attrs

    def create(self, validated_data):
        validated_data.setdefault("name", validated_data["job"].name.rsplit(".", 1)[-1])
        validated_data.setdefault("appearance", default_appearance())
        return workflows.add(WorkflowJob, **validated_data)

    def update(self, instance, validated_data):
        return workflows.change(instance, **validated_data)


class WorkflowJobGroupSerializer(serializers.HyperlinkedModelSerializer):
    """A group of one workflow's jobs; ``{workflow, origin}`` imports a valid workflow as a group."""

    serializer_field_mapping = JSON_MAPPING

    url = serializers.HyperlinkedIdentityField(view_name="workflowjobgroup-detail")
    workflow = Link("workflow-detail", project_path="project", queryset=Workflow.objects, required=False)
    origin = Link("workflow-detail", project_path="project", queryset=Workflow.objects, required=False)
    workflow_jobs = Link(
        "workflowjob-detail", project_path="workflow__project", queryset=WorkflowJob.objects, many=True,
        required=False,
    )

    class Meta:
        model = WorkflowJobGroup
        fields = [
            "url", "uuid", "name", "description", "created", "updated", "appearance", "workflow", "origin",
            "workflow_jobs",
        ]
        extra_kwargs = {"name": {"required": False}}

    def validate(self, attrs):
        if self.instance is not None:
            if {"workflow", "origin"} & set(attrs):
                raise serializers.ValidationError("A group's workflow and origin cannot change.")
        elif "origin" in attrs:
            _domain_check(workflows.check_origin, attrs["origin"], key="origin")
            if "workflow" not in attrs:
                raise serializers.ValidationError({"workflow": ["This field is required."]})
        elif not attrs.get("workflow_jobs"):
            raise serializers.ValidationError({"workflow_jobs": ["This field is required."]})
        if attrs.get("workflow_jobs") is not None:
            _domain_check(workflows.check_groupable, attrs["workflow_jobs"], self.instance, key="workflow_jobs")
        return attrs

    def create(self, validated_data):
        jobs = validated_data.pop("workflow_jobs", None)
        workflow = validated_data.pop("workflow", None)
        origin = validated_data.pop("origin", None)
        if origin is not None:
            return workflows.import_as_group(origin, workflow, **validated_data)
        return workflows.group_jobs(jobs, **validated_data)  # in the jobs' own workflow

    def update(self, instance, validated_data):
        workflow_jobs = validated_data.pop("workflow_jobs", None)
        instance = super().update(instance, validated_data)
        if workflow_jobs is not None:
            workflows.regroup(instance, workflow_jobs)
        return instance


class WorkflowSerializer(serializers.HyperlinkedModelSerializer):
    """The list representation, also used to create (``serialized`` imports a document)."""

    url = serializers.HyperlinkedIdentityField(view_name="workflow-detail")
    project = Link("project-detail", project_path="", queryset=Project.objects)
    creator = serializers.SlugRelatedField(slug_field="username", read_only=True)
    serialized = serializers.JSONField(write_only=True, required=False, decoder=BoundedDecoder)
    workflow_job_group = Link(
        "workflowjobgroup-detail", project_path="workflow__project", queryset=WorkflowJobGroup.objects,
        write_only=True, required=False,
    )

    class Meta:
        model = Workflow
        fields = [
            "url", "uuid", "name", "project", "description", "creator", "valid", "created", "updated", "serialized",
            "workflow_job_group",
        ]
        extra_kwargs = {"name": {"required": False}}

    def validate(self, attrs):
        if self.instance is None:
            if attrs.get("valid"):
                raise serializers.ValidationError(
                    {"valid": ["You can't create a valid workflow - it must be validated through a PATCH request."]}
                )
            if not ({"serialized", "workflow_job_group"} & set(attrs)) and not attrs.get("name"):
                raise serializers.ValidationError({"name": ["This field is required."]})
        return attrs

    def create(self, validated_data):
        from rodan.engine.serialization import SerializationError, import_workflow

        if "serialized" in validated_data:
            try:
                return import_workflow(
                    validated_data["project"],
                    validated_data["serialized"],
                    creator=validated_data.get("creator"),
                    name=validated_data.get("name"),
                )
            except SerializationError as exc:
                raise serializers.ValidationError({"serialized": exc.detail}) from None
        validated_data.pop("valid", None)
        group = validated_data.pop("workflow_job_group", None)
        if group is not None:
            return workflows.workflow_from_group(group, **validated_data)
        return super().create(validated_data)

    def update(self, instance, validated_data):
        for creation_only in ("serialized", "workflow_job_group"):
            validated_data.pop(creation_only, None)
        return super().update(instance, validated_data)


class WorkflowDetailSerializer(WorkflowSerializer):
    workflow_jobs = WorkflowJobSerializer(many=True, read_only=True)
    workflow_runs = serializers.HyperlinkedRelatedField(view_name="workflowrun-detail", many=True, read_only=True)
    workflow_input_ports = serializers.SerializerMethodField()
    workflow_output_ports = serializers.SerializerMethodField()
    workflow_connections = serializers.SerializerMethodField()

    class Meta(WorkflowSerializer.Meta):
        fields = WorkflowSerializer.Meta.fields + [
            "workflow_jobs", "workflow_runs", "workflow_input_ports", "workflow_output_ports", "workflow_connections",
        ]

    @extend_schema_field(InputPortSerializer(many=True))
    def get_workflow_input_ports(self, workflow):
        ports = InputPort.objects.filter(workflow_job__workflow=workflow, extern=True)
        return InputPortSerializer(ports, many=True, context=self.context).data

    @extend_schema_field(OutputPortSerializer(many=True))
    def get_workflow_output_ports(self, workflow):
        ports = OutputPort.objects.filter(workflow_job__workflow=workflow, extern=True)
        return OutputPortSerializer(ports, many=True, context=self.context).data

    @extend_schema_field(ConnectionSerializer(many=True))
    def get_workflow_connections(self, workflow):
        connections = Connection.objects.filter(input_port__workflow_job__workflow=workflow)
        return ConnectionSerializer(connections, many=True, context=self.context).data
