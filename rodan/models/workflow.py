"""Workflows: jobs with settings, their ports, and the connections between ports."""

import uuid

from django.conf import settings
from django.db import models

from rodan.models.base import RodanModel


def default_appearance():
    return {"x": 0.5, "y": 0.5}


class Workflow(RodanModel):
    name = models.CharField(max_length=100)
    project = models.ForeignKey("rodan.Project", related_name="workflows", on_delete=models.CASCADE)
    description = models.TextField(blank=True, null=True)
    creator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    valid = models.BooleanField(default=False)
    #: The builder's resource choices per input port, ``{port hex: [resource hex]}``:
    #: UI state only (rodan-compat.md §2.7 ``resourceassignments``); runs never read it.
    resource_assignments = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return self.name


class WorkflowJobGroup(RodanModel):
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, null=True)
    workflow = models.ForeignKey(Workflow, related_name="workflow_job_groups", on_delete=models.CASCADE)
    origin = models.ForeignKey(Workflow, related_name="+", null=True, blank=True, on_delete=models.SET_NULL)
    appearance = models.JSONField(default=default_appearance)


class WorkflowJob(RodanModel):
    workflow = models.ForeignKey(Workflow, related_name="workflow_jobs", on_delete=models.CASCADE)
    job = models.ForeignKey("rodan.Job", related_name="workflow_jobs", on_delete=models.PROTECT)
    job_settings = models.JSONField(default=dict, blank=True)
    name = models.CharField(max_length=255, blank=True)
    group = models.ForeignKey(
        WorkflowJobGroup, related_name="workflow_jobs", null=True, blank=True, on_delete=models.SET_NULL
    )
    appearance = models.JSONField(default=default_appearance)

    class Meta:
        ordering = ["created"]

    def __str__(self):
        return self.name or self.job.name


class Port(models.Model):
    """What input and output ports share: a port without a label is called after its type.

    Rodan's client creates every port with ``"label": null``, and Rodan names it
    after its type (rodan-compat.md §2.8); saving applies that rule, so it holds
    for the API, workflow import and copies alike.
    """

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self.label:
            self.label = self.port_type.name
        super().save(*args, **kwargs)


class InputPort(Port):
    uuid = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workflow_job = models.ForeignKey(WorkflowJob, related_name="input_ports", on_delete=models.CASCADE)
    input_port_type = models.ForeignKey("rodan.InputPortType", on_delete=models.PROTECT)
    label = models.CharField(max_length=255, blank=True)
    extern = models.BooleanField(default=False)

    class Meta:
        ordering = ["input_port_type__name", "uuid"]

    @property
    def port_type(self):
        return self.input_port_type


class OutputPort(Port):
    uuid = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workflow_job = models.ForeignKey(WorkflowJob, related_name="output_ports", on_delete=models.CASCADE)
    output_port_type = models.ForeignKey("rodan.OutputPortType", on_delete=models.PROTECT)
    label = models.CharField(max_length=255, blank=True)
    extern = models.BooleanField(default=False)

    class Meta:
        ordering = ["output_port_type__name", "uuid"]

    @property
    def port_type(self):
        return self.output_port_type


class Connection(models.Model):
    uuid = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    input_port = models.ForeignKey(InputPort, related_name="connections", on_delete=models.CASCADE)
    output_port = models.ForeignKey(OutputPort, related_name="connections", on_delete=models.CASCADE)
    offset_x = models.FloatField(null=True, blank=True)
    offset_y = models.FloatField(null=True, blank=True)
