"""Registered jobs, their port types, and the resource types ports accept.

Rows are written only by the explicit registration step
(``rodan.jobs.registry.register_jobs``), from the job classes' metadata.
"""

import uuid

from django.db import models

from rodan.jobs.base import DEFAULT_QUEUE


class ResourceType(models.Model):
    uuid = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    mimetype = models.CharField(max_length=255, unique=True)
    description = models.CharField(max_length=255, blank=True)
    extension = models.CharField(max_length=50, blank=True)

    class Meta:
        ordering = ["mimetype"]

    def __str__(self):
        return self.mimetype


class Job(models.Model):
    uuid = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, unique=True)
    author = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=255, blank=True)
    enabled = models.BooleanField(default=True)
    interactive = models.BooleanField(default=False)
    settings = models.JSONField(default=dict)
    job_queue = models.CharField(max_length=50, default=DEFAULT_QUEUE)
    #: The job class's own time limits in seconds, copied from ``RodanTask.soft_time_limit``
    #: and ``time_limit`` at registration; NULL means the class sets none, and the
    #: dispatching process applies its configured default (``RODAN_SOFT_TIME_LIMIT``;
    #: for the hard limit ``RODAN_TIME_LIMIT``, at least the soft limit + 60 s). The
    #: dispatcher reads these and the queue from this row, never from the job's code.
    soft_time_limit = models.PositiveIntegerField(null=True, blank=True)
    time_limit = models.PositiveIntegerField(null=True, blank=True)
    #: The job package (``rodan.jobs.utilities``) and its version, recorded on every RunJob.
    package = models.CharField(max_length=255, blank=True)
    version = models.CharField(max_length=50, blank=True)

    class Meta:
        ordering = ["category", "name"]

    def __str__(self):
        return self.name


class PortType(models.Model):
    uuid = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255)
    minimum = models.IntegerField(default=1)
    maximum = models.IntegerField(default=1)  # 0 means unbounded
    is_list = models.BooleanField(default=False)

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self):
        return f"{self.job.name}: {self.name}"


class InputPortType(PortType):
    job = models.ForeignKey(Job, related_name="input_port_types", on_delete=models.CASCADE)
    resource_types = models.ManyToManyField(ResourceType, related_name="input_port_types")

    class Meta(PortType.Meta):
        unique_together = [("job", "name")]


class OutputPortType(PortType):
    job = models.ForeignKey(Job, related_name="output_port_types", on_delete=models.CASCADE)
    resource_types = models.ManyToManyField(ResourceType, related_name="output_port_types")

    class Meta(PortType.Meta):
        unique_together = [("job", "name")]
