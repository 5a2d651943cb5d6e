"""Deciding what runs next, and sending it to the workers.

Whenever a run starts or a RunJob ends, ``lifecycle.schedule`` takes the
RunJobs found ready here (row locks, ``SKIP LOCKED`` on PostgreSQL, so
concurrent schedulers never take the same row), moves them to Processing with
a fresh dispatch token, and after the transaction commits ``send`` puts one
message per RunJob on its job's queue.
"""

from django.conf import settings
from django.db import connection
from django.db.models import Exists, OuterRef

from rodan.jobs.base import DEFAULT_QUEUE
from rodan.models import Input, RunJob
from rodan.models.status import RunJobStatus, RunStatus

#: Seconds a worker may go on running successors of a message's RunJob without new messages
#: (``rodan.engine.execution``). Messages carry this much headroom over their job's time limits,
#: which the worker enforces itself for each RunJob it runs.
CHAIN_BUDGET = 10

#: Runs whose RunJobs may still be dispatched; a failed run's other chains carry on (Rodan's rule).
ACTIVE_RUN_STATUSES = (RunStatus.PROCESSING, RunStatus.RETRYING, RunStatus.FAILED)


def _inputs_ready(run_job):
    """Every bound file exists; a list must be non-empty with every member present."""
    if not run_job.has_list_inputs:  # single files were checked by the query (``candidates``)
        return True
    for item in run_job.inputs.filter(resource_list__isnull=False).select_related("resource_list"):
        members = item.resource_list.ordered_resources()
        if not members or not all(member.is_ready for member in members):
            return False
    return True


def _lock(queryset):
    skip = connection.features.has_select_for_update_skip_locked
    return queryset.select_for_update(skip_locked=skip, of=("self",) if skip else ())


def candidates(run_ids=None):
    """Scheduled RunJobs of active runs whose single-resource inputs all exist (lists: see _inputs_ready)."""
    unready_file = Input.objects.filter(run_job=OuterRef("pk"), resource__isnull=False, resource__resource_file="")
    list_input = Input.objects.filter(run_job=OuterRef("pk"), resource_list__isnull=False)
    queryset = (
        RunJob.objects.filter(status=RunJobStatus.SCHEDULED, workflow_run__status__in=ACTIVE_RUN_STATUSES)
        .exclude(Exists(unready_file))
        .annotate(has_list_inputs=Exists(list_input))
    )
    if run_ids is not None:
        queryset = queryset.filter(workflow_run_id__in=list(run_ids))
    return queryset


def has_pending_work(run_id):
    """Whether anything of the run is running, or ready to run: false once a failed run has settled."""
    if RunJob.objects.filter(workflow_run_id=run_id, status=RunJobStatus.PROCESSING).exists():
        return True
    return any(_inputs_ready(run_job) for run_job in candidates([run_id]))


def ready_run_jobs(run_ids=None):
    """Locked Scheduled RunJobs (of the given runs) whose inputs are all ready, oldest first (inside a transaction)."""
    locked = _lock(candidates(run_ids).select_related("job", "workflow_run").order_by("created"))
    return [run_job for run_job in locked if _inputs_ready(run_job)]


def job_time_limits(run_job):
    """(soft, hard) time limits in seconds: the job's own, else the configured defaults.

    Read from the RunJob's Job row (registration copied the class's limits
    there): the dispatching process needs none of the job's code.
    """
    job = run_job.job if run_job.job_id else None
    soft = (job and job.soft_time_limit) or settings.RODAN_SOFT_TIME_LIMIT
    hard = (job and job.time_limit) or max(settings.RODAN_TIME_LIMIT, soft + 60)
    return soft, hard


def queue_of(run_job):
    """The queue a RunJob's messages go to: its Job row's (stored at registration)."""
    return run_job.job.job_queue if run_job.job_id else DEFAULT_QUEUE


def send(run_job):
    """Publish "run RunJob X with token T" on the job's queue, its limits plus the chain budget."""
    from rodan.celery import app

    soft, hard = job_time_limits(run_job)
    app.send_task(
        "rodan.run_job",
        args=[str(run_job.pk), run_job.dispatch_token],
        queue=queue_of(run_job),
        soft_time_limit=soft + CHAIN_BUDGET,
        time_limit=hard + CHAIN_BUDGET,
    )
