"""Changing a run while it exists: cancel, retry, redo, and interactive submissions.

Each operation only rewrites RunJob rows and then lets the scheduler act;
a job running elsewhere notices through its heartbeat that its row is no
longer its own and stops (rodan-compat.md §3 gives the transitions).
"""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from rodan.engine.scheduler import schedule_after_commit
from rodan.models import Input, Output, Resource, RunJob, WorkflowRun
from rodan.models.status import RunJobStatus, RunStatus


class InvalidTransition(Exception):
    """The run or RunJob is not in a state that allows the requested change."""


def _without_state(job_settings):
    return {key: value for key, value in job_settings.items() if not key.startswith("@")}


def _reset(run_jobs):
    """Send RunJobs back to Scheduled, dropping errors, claims and ``@`` state."""
    for run_job in run_jobs:
        run_job.status = RunJobStatus.SCHEDULED
        run_job.error_summary = run_job.error_details = ""
        run_job.job_settings = _without_state(run_job.job_settings)
        run_job.dispatch_token = ""
        run_job.claimed_by = ""
        run_job.working_user = None
        run_job.working_user_token = ""
        run_job.working_user_expiry = None
        run_job.save()


@transaction.atomic
def cancel_run(run):
    run = WorkflowRun.objects.select_for_update().get(pk=run.pk)
    if run.status not in (RunStatus.PROCESSING, RunStatus.RETRYING, RunStatus.FAILED):
        raise InvalidTransition("Invalid status update")
    RunJob.objects.filter(
        workflow_run=run,
        status__in=(RunJobStatus.SCHEDULED, RunJobStatus.PROCESSING, RunJobStatus.WAITING_FOR_INPUT),
    ).update(status=RunJobStatus.CANCELLED, dispatch_token="", claimed_by="", updated=timezone.now())
    run.status = RunStatus.CANCELLED
    run.save(update_fields=["status", "updated"])
    return run


@transaction.atomic
def retry_run(run):
    run = WorkflowRun.objects.select_for_update().get(pk=run.pk)
    if run.status not in (RunStatus.CANCELLED, RunStatus.FAILED):
        raise InvalidTransition("Invalid status update")
    _reset(RunJob.objects.select_for_update().filter(
        workflow_run=run, status__in=(RunJobStatus.FAILED, RunJobStatus.CANCELLED)
    ))
    run.status = RunStatus.RETRYING
    run.save(update_fields=["status", "updated"])
    schedule_after_commit([run.pk])
    return run


def downstream_run_jobs(run_job):
    """``run_job`` and every RunJob that consumes, directly or not, what it produces."""
    found, frontier = {run_job.pk}, [run_job.pk]
    while frontier:
        produced = Output.objects.filter(run_job_id__in=frontier)
        consumers = set(
            Input.objects.filter(
                Q(resource__in=produced.values("resource_id")) | Q(resource_list__in=produced.values("resource_list_id"))
            ).values_list("run_job_id", flat=True)
        )
        frontier = list(consumers - found)
        found.update(frontier)
    return found


@transaction.atomic
def redo_from(run_job):
    """Re-run ``run_job`` and everything downstream; their old outputs stop counting as ready."""
    run = WorkflowRun.objects.select_for_update().get(pk=run_job.workflow_run_id)
    run_job = RunJob.objects.select_for_update().get(pk=run_job.pk)
    if run_job.status not in (RunJobStatus.FINISHED, RunJobStatus.FAILED, RunJobStatus.WAITING_FOR_INPUT, RunJobStatus.PROCESSING):
        raise InvalidTransition("Requested RunJob is not yet processed.")
    affected = RunJob.objects.select_for_update().filter(pk__in=downstream_run_jobs(run_job))
    _reset([rj for rj in affected if rj.pk == run_job.pk or rj.status != RunJobStatus.SCHEDULED])
    outputs = Output.objects.filter(run_job__in=affected)
    Resource.objects.filter(pk__in=outputs.values("resource_id")).update(resource_file="", updated=timezone.now())
    for output in outputs.filter(resource_list__isnull=False).select_related("resource_list"):
        output.resource_list.memberships.all().delete()
    run.status = RunStatus.RETRYING
    run.last_redone_runjob_tree = run_job
    run.save(update_fields=["status", "last_redone_runjob_tree", "updated"])
    schedule_after_commit([run.pk])
    return run


@transaction.atomic
def accept_user_input(run_job, result):
    """Apply the outcome of ``validate_my_user_input``: merge ``@`` keys and let the job re-run.

    Rodan merges every key of the returned dict; only the ``@`` keys (the
    job's own state) are merged here, so a submission cannot rewrite the
    job's settings.
    """
    run_job = RunJob.objects.select_for_update().get(pk=run_job.pk)
    if run_job.status != RunJobStatus.WAITING_FOR_INPUT:
        raise InvalidTransition("This RunJob does not accept input now")
    update = {key: value for key, value in result.items() if key.startswith("@")}
    run_job.job_settings = {**run_job.job_settings, **update}
    run_job.status = RunJobStatus.SCHEDULED
    run_job.dispatch_token = ""
    run_job.working_user = None
    run_job.working_user_token = ""
    run_job.working_user_expiry = None
    run_job.save()
    schedule_after_commit([run_job.workflow_run_id])
    return run_job


@transaction.atomic
def keep_waiting(run_job, settings_update):
    """A submission answered with WAITING_FOR_INPUT: merge its ``@`` keys, stay waiting."""
    run_job = RunJob.objects.select_for_update().get(pk=run_job.pk)
    run_job.job_settings = {**run_job.job_settings, **settings_update}
    run_job.save(update_fields=["job_settings", "updated"])
    return run_job
