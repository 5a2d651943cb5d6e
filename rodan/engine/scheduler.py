"""Deciding what runs next, and sending it to the workers.

Whenever a run starts or a RunJob ends, ``schedule`` claims the RunJobs whose
inputs are all ready (row locks, ``SKIP LOCKED`` on PostgreSQL, so concurrent
schedulers never claim the same row), moves them to Processing with a fresh
dispatch token, and after the transaction commits sends one message per
RunJob to its job's queue.
"""

import uuid

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from rodan.models import Input, RunJob
from rodan.models.status import RunJobStatus, RunStatus

#: Runs whose RunJobs may still be dispatched; a failed run's other chains carry on (Rodan's rule).
ACTIVE_RUN_STATUSES = (RunStatus.PROCESSING, RunStatus.RETRYING, RunStatus.FAILED)


def _inputs_ready(run_job):
    """Every bound file exists; a list must be non-empty with every member present."""
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
    queryset = RunJob.objects.filter(
        status=RunJobStatus.SCHEDULED, workflow_run__status__in=ACTIVE_RUN_STATUSES
    ).exclude(Exists(unready_file))
    if run_ids is not None:
        queryset = queryset.filter(workflow_run_id__in=list(run_ids))
    return queryset


def has_pending_work(run_id):
    """Whether anything of the run is running, or ready to run: false once a failed run has settled."""
    if RunJob.objects.filter(workflow_run_id=run_id, status=RunJobStatus.PROCESSING).exists():
        return True
    return any(_inputs_ready(run_job) for run_job in candidates([run_id]))


def claim_ready(run_ids=None):
    """Move ready RunJobs to Processing with new tokens; return them (call inside a transaction)."""
    claimed = []
    now = timezone.now()
    for run_job in _lock(candidates(run_ids).select_related("job").order_by("created")):
        if not _inputs_ready(run_job):
            continue
        run_job.status = RunJobStatus.PROCESSING
        run_job.dispatch_token = uuid.uuid4().hex
        run_job.dispatched_at = now
        run_job.claimed_by = ""
        run_job.save(update_fields=["status", "dispatch_token", "dispatched_at", "claimed_by", "updated"])
        claimed.append(run_job)
    return claimed


def job_time_limits(run_job):
    """(soft, hard) time limits in seconds: the job class's own, else the configured defaults."""
    from rodan.jobs.registry import get_registry

    soft, hard = settings.RODAN_SOFT_TIME_LIMIT, settings.RODAN_TIME_LIMIT
    cls = get_registry().jobs.get(run_job.job_name)
    if cls is not None:
        soft = cls.soft_time_limit or soft
        hard = cls.time_limit or max(hard, soft + 60)
    return soft, hard


def send(run_job):
    """Publish "run RunJob X with token T" on the job's queue."""
    from rodan.celery import app

    soft, hard = job_time_limits(run_job)
    queue = run_job.job.job_queue if run_job.job_id else "celery"
    app.send_task(
        "rodan.run_job",
        args=[str(run_job.pk), run_job.dispatch_token],
        queue=queue,
        soft_time_limit=soft,
        time_limit=hard,
    )


def schedule(run_ids=None):
    """Claim and dispatch every ready RunJob (of the given runs, or of all runs)."""
    with transaction.atomic():
        claimed = claim_ready(run_ids)
        transaction.on_commit(lambda: [send(rj) for rj in claimed])
    return len(claimed)


def schedule_after_commit(run_ids=None):
    """Run ``schedule`` once the surrounding transaction has committed."""
    transaction.on_commit(lambda: schedule(run_ids))
