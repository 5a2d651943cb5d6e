"""List filters of rodan-compat.md §2 (django-filter).

Foreign keys filter by UUID (users by id), booleans read ``True``/``False``,
and a bad value gives 400 ``{field: [message]}``.
"""

import uuid
from datetime import timezone as dt_timezone

import django_filters as df
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from rodan import models as m
from rodan.results import end_point_outputs

D = ["lt", "gt"]
N = ["exact", "icontains"]


class UTCDateTimeField(forms.DateTimeField):
    """A date filter's value in UTC: PostgreSQL refuses offsets beyond ±15:59, ISO-8601 allows ±23:59."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(dt_timezone.utc)
        except OverflowError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class UTCDateTimeFilter(df.DateTimeFilter):
    field_class = UTCDateTimeField


class RodanFilterSet(df.FilterSet):
    FILTER_DEFAULTS = {**df.FilterSet.FILTER_DEFAULTS, models.DateTimeField: {"filter_class": UTCDateTimeFilter}}


def dates():
    return {"created": ["exact", *D], "updated": ["exact", *D]}


class UUIDInFilter(df.BaseInFilter, df.UUIDFilter):
    pass


class CharInFilter(df.BaseInFilter, df.CharFilter):
    pass


class ProjectFilter(RodanFilterSet):
    class Meta:
        model = m.Project
        fields = {"name": N, "description": N, "creator": ["exact"], "uuid": ["exact"], **dates()}


class JobFilter(RodanFilterSet):
    class Meta:
        model = m.Job
        fields = {"category": ["exact"], "interactive": ["exact"], "enabled": ["exact"], "uuid": ["exact"], "name": N}


class InputPortTypeFilter(RodanFilterSet):
    class Meta:
        model = m.InputPortType
        fields = {"job": ["exact"], "minimum": ["exact", *D], "maximum": ["exact", *D], "uuid": ["exact"], "name": N}


class ResourceTypeFilter(RodanFilterSet):
    class Meta:
        model = m.ResourceType
        fields = {"mimetype": N, "uuid": ["exact"], "extension": ["exact"], "description": ["icontains"]}


class ResourceFilter(RodanFilterSet):
    resource_type__in = UUIDInFilter(field_name="resource_type")
    labels = df.ModelMultipleChoiceFilter(queryset=m.Label.objects.all(), conjoined=True)
    result_of_workflow_run = df.UUIDFilter(method="filter_result_of_workflow_run")
    uploaded = df.BooleanFilter(field_name="origin", lookup_expr="isnull")
    resource_list = df.CharFilter(method="filter_resource_list")

    class Meta:
        model = m.Resource
        fields = {
            "project": ["exact"], "resource_type": ["exact"], "origin": ["exact", "isnull"], "uuid": ["exact"],
            "creator": ["exact"], "creator__username": ["icontains"], "processing_status": ["exact"],
            "name": N, **dates(),
        }

    def filter_result_of_workflow_run(self, queryset, name, value):
        """The resources of the run's end-point outputs (``rodan.results``)."""
        return queryset.filter(pk__in=end_point_outputs(value).filter(resource__isnull=False).values("resource"))

    def filter_resource_list(self, queryset, name, value):
        """Members of the list named by its UUID or URL."""
        try:
            key = uuid.UUID(value.rstrip("/").rsplit("/", 1)[-1])
        except ValueError:
            return queryset.none()
        return queryset.filter(pk__in=m.ResourceListMembership.objects.filter(resource_list=key).values("resource"))


class ResourceListFilter(RodanFilterSet):
    resource_type__in = UUIDInFilter(method="filter_resource_type_in")

    class Meta:
        model = m.ResourceList
        fields = {
            "uuid": ["exact"], "name": N, "description": ["icontains"], "project": ["exact"],
            "origin": ["exact", "isnull"], **dates(),
        }

    def filter_resource_type_in(self, queryset, name, values):
        return queryset.filter(
            Q(declared_type__in=values) | Q(declared_type__isnull=True, resources__resource_type__in=values)
        ).distinct()


class LabelFilter(RodanFilterSet):
    class Meta:
        model = m.Label
        fields = {"uuid": ["exact"], "name": N}


class WorkflowFilter(RodanFilterSet):
    class Meta:
        model = m.Workflow
        fields = {
            "project": ["exact"], "valid": ["exact"], "name": N, "creator": ["exact"],
            "creator__username": ["icontains"], "uuid": ["exact"], **dates(),
        }


class WorkflowJobFilter(RodanFilterSet):
    class Meta:
        model = m.WorkflowJob
        fields = {"workflow": ["exact"], "job": ["exact"], "group": ["exact"], "name": N, "uuid": ["exact"], **dates()}


class WorkflowJobGroupFilter(RodanFilterSet):
    project = df.UUIDFilter(field_name="workflow__project")

    class Meta:
        model = m.WorkflowJobGroup
        fields = {"workflow": ["exact"], "origin": ["exact"]}


class InputPortFilter(RodanFilterSet):
    workflow = df.UUIDFilter(field_name="workflow_job__workflow")
    type = df.CharFilter(field_name="input_port_type__name")
    has_connections = df.BooleanFilter(method="filter_has_connections")

    class Meta:
        model = m.InputPort
        fields = {"workflow_job": ["exact"], "extern": ["exact"]}

    def filter_has_connections(self, queryset, name, value):
        return queryset.filter(connections__isnull=not value).distinct()


class OutputPortFilter(RodanFilterSet):
    workflow = df.UUIDFilter(field_name="workflow_job__workflow")
    type = df.CharFilter(field_name="output_port_type__name")

    class Meta:
        model = m.OutputPort
        fields = {"workflow_job": ["exact"], "extern": ["exact"]}


class ConnectionFilter(RodanFilterSet):
    workflow = df.UUIDFilter(field_name="input_port__workflow_job__workflow")
    input_workflow_job = df.UUIDFilter(field_name="input_port__workflow_job")
    output_workflow_job = df.UUIDFilter(field_name="output_port__workflow_job")

    class Meta:
        model = m.Connection
        fields = {"input_port": ["exact"], "output_port": ["exact"]}


class WorkflowRunFilter(RodanFilterSet):
    class Meta:
        model = m.WorkflowRun
        fields = {
            "status": ["exact"], "workflow": ["exact"], "project": ["exact"], "creator": ["exact"],
            "creator__username": ["icontains"], "name": N, "uuid": ["exact"], **dates(),
        }


class RunJobFilter(RodanFilterSet):
    project = df.UUIDFilter(field_name="workflow_run__project")

    class Meta:
        model = m.RunJob
        fields = {
            "status": ["exact"], "workflow_run": ["exact"], "workflow_job_uuid": ["exact"],
            "resource_uuid": ["exact", "isnull"], "job_name": N, "uuid": ["exact"], **dates(),
        }


class InputFilter(RodanFilterSet):
    class Meta:
        model = m.Input
        fields = {"resource": ["exact"], "run_job": ["exact"], "input_port_type_name": ["exact"]}


class OutputFilter(RodanFilterSet):
    class Meta:
        model = m.Output
        fields = {"resource": ["exact"], "run_job": ["exact"], "output_port_type_name": ["exact"]}


class ResultsPackageFilter(RodanFilterSet):
    project = df.UUIDFilter(field_name="workflow_run__project")

    class Meta:
        model = m.ResultsPackage
        fields = {"status": ["exact"], "workflow_run": ["exact"], "packaging_mode": ["exact"]}


class UserFilter(RodanFilterSet):
    username__in = CharInFilter(field_name="username")

    class Meta:
        model = get_user_model()
        fields = {"username": ["exact"]}
