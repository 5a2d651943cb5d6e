"""Workflow runs, the RunJobs they expand into, and their inputs and outputs.

A RunJob row is the only truth about a job's progress: Celery carries just
"run RunJob X with dispatch token T". The engine fields below record who runs
it, since when, and the heartbeat the reaper watches.
"""

from django.conf import settings
from django.db import models

from rodan.models.base import RodanModel
from rodan.models.status import RunJobStatus, RunStatus


class WorkflowRun(RodanModel):
    project = models.ForeignKey("rodan.Project", related_name="workflow_runs", on_delete=models.CASCADE)
    workflow = models.ForeignKey(
        "rodan.Workflow", related_name="workflow_runs", null=True, on_delete=models.SET_NULL
    )
    creator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    status = models.IntegerField(choices=RunStatus.choices, default=RunStatus.PROCESSING, db_index=True)
    name = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True, null=True)
    last_redone_runjob_tree = models.ForeignKey(
        "rodan.RunJob", related_name="+", null=True, blank=True, on_delete=models.SET_NULL
    )
    origin_resources = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]


class RunJob(RodanModel):
    workflow_run = models.ForeignKey(WorkflowRun, related_name="run_jobs", on_delete=models.CASCADE)
    workflow_job = models.ForeignKey(
        "rodan.WorkflowJob", related_name="run_jobs", null=True, on_delete=models.SET_NULL
    )
    workflow_job_uuid = models.CharField(max_length=32)
    resource_uuid = models.CharField(max_length=32, null=True, blank=True)
    job = models.ForeignKey("rodan.Job", related_name="run_jobs", null=True, on_delete=models.SET_NULL)
    job_name = models.CharField(max_length=200)
    job_settings = models.JSONField(default=dict, blank=True)
    status = models.IntegerField(choices=RunJobStatus.choices, default=RunJobStatus.SCHEDULED, db_index=True)
    error_summary = models.TextField(blank=True, default="")
    error_details = models.TextField(blank=True, default="")
    working_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    working_user_token = models.CharField(max_length=64, blank=True, default="")
    working_user_expiry = models.DateTimeField(null=True, blank=True)

    # -- engine bookkeeping (ours; not part of Rodan's representation) -----
    #: Changes on every dispatch; a message carrying another token is stale.
    dispatch_token = models.CharField(max_length=32, blank=True, default="", db_index=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    #: ``host:pid`` of the worker process running the job, empty while unclaimed.
    claimed_by = models.CharField(max_length=255, blank=True, default="")
    worker_host = models.CharField(max_length=255, blank=True, default="")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    #: Times the job was started; bounded by RODAN_MAX_ATTEMPTS when workers die.
    attempts = models.PositiveIntegerField(default=0)
    job_version = models.CharField(max_length=50, blank=True, default="")

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return f"{self.job_name} ({self.uuid.hex[:8]})"


class Input(RodanModel):
    run_job = models.ForeignKey(RunJob, related_name="inputs", on_delete=models.CASCADE)
    input_port = models.ForeignKey("rodan.InputPort", null=True, blank=True, on_delete=models.SET_NULL)
    input_port_type_name = models.CharField(max_length=255)
    input_port_type = models.ForeignKey("rodan.InputPortType", null=True, on_delete=models.SET_NULL)
    resource = models.ForeignKey("rodan.Resource", null=True, blank=True, related_name="inputs", on_delete=models.PROTECT)
    resource_list = models.ForeignKey(
        "rodan.ResourceList", null=True, blank=True, related_name="inputs", on_delete=models.PROTECT
    )

    class Meta:
        ordering = ["created"]


class Output(RodanModel):
    run_job = models.ForeignKey(RunJob, related_name="outputs", on_delete=models.CASCADE)
    output_port = models.ForeignKey("rodan.OutputPort", null=True, blank=True, on_delete=models.SET_NULL)
    output_port_type_name = models.CharField(max_length=255)
    output_port_type = models.ForeignKey("rodan.OutputPortType", null=True, on_delete=models.SET_NULL)
    resource = models.ForeignKey("rodan.Resource", null=True, blank=True, related_name="outputs", on_delete=models.CASCADE)
    resource_list = models.ForeignKey(
        "rodan.ResourceList", null=True, blank=True, related_name="outputs", on_delete=models.CASCADE
    )

    class Meta:
        ordering = ["created"]


class ResultsPackage(RodanModel):
    workflow_run = models.ForeignKey(WorkflowRun, related_name="results_packages", on_delete=models.CASCADE)
    creator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    status = models.IntegerField(default=0)
    percent_completed = models.IntegerField(default=0)
    packaging_mode = models.IntegerField(default=0)
    error_summary = models.TextField(blank=True, default="")
    error_details = models.TextField(blank=True, default="")
    expiry_time = models.DateTimeField(null=True, blank=True)
