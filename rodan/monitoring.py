"""What admins watch (the monitoring page): queues, workers, RunJobs in flight, the reaper's last passes.

Everything comes from what the system already records: queue depths from the
broker (RabbitMQ's passive declare, or the embedded broker's message files),
workers from the claims and heartbeats RunJobs carry (``claimed_by`` is the
worker process, ``host:pid``), and the reaper's passes from ``ReaperPass``.
A queue the broker cannot measure is reported as ``"unknown"``, never as a
failure of the page.
"""

from django.conf import settings
from django.db.models import Count, Q
from django.urls import reverse

from rodan.engine.execution import claim_is_dead
from rodan.engine.reaper import queue_depth
from rodan.models import Job, ReaperPass, RunJob
from rodan.models.status import RunJobStatus

#: How many of the oldest RunJobs in flight, and of the reaper's newest passes, are listed.
LISTED = 10
UNKNOWN = "unknown"

IN_FLIGHT = (RunJobStatus.SCHEDULED, RunJobStatus.PROCESSING, RunJobStatus.WAITING_FOR_INPUT)


def queue_names():
    """The queues workers are started on, and every queue a registered job sends to."""
    names = set(filter(None, settings.RODAN_QUEUES))
    names.update(Job.objects.exclude(job_queue="").values_list("job_queue", flat=True).distinct())
    return sorted(names)


def queues():
    from rodan.celery import app

    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1)
            depths = {name: queue_depth(name, connection) for name in queue_names()}
    except Exception:  # the broker is unreachable: every depth is unknown (asked once, not once per queue)
        depths = dict.fromkeys(queue_names())
    return [{"name": name, "depth": UNKNOWN if depth is None else depth} for name, depth in depths.items()]


def phase(run_job):
    """Where a RunJob in flight is: scheduled, queued (sent, not yet taken), running or waiting for input."""
    if run_job.status == RunJobStatus.PROCESSING:
        return "running" if run_job.claimed_by else "queued"
    if run_job.status == RunJobStatus.WAITING_FOR_INPUT:
        return "waiting_for_input"
    return "scheduled"


def describe_run_job(run_job, request):
    return {
        "uuid": run_job.uuid.hex,
        "url": request.build_absolute_uri(reverse("runjob-detail", args=[run_job.pk])),
        "workflow_run": request.build_absolute_uri(reverse("workflowrun-detail", args=[run_job.workflow_run_id])),
        "page": f"/runs/{run_job.workflow_run_id}",
        "job_name": run_job.job_name,
        "phase": phase(run_job),
        "worker": run_job.claimed_by,
        "created": run_job.created,
        "dispatched_at": run_job.dispatched_at,
        "started_at": run_job.started_at,
        "heartbeat_at": run_job.heartbeat_at,
        "attempts": run_job.attempts,
    }


def workers(request):
    """Each worker process holding a claim, with the RunJobs it runs and whether it still answers."""
    claimed = RunJob.objects.filter(status=RunJobStatus.PROCESSING).exclude(claimed_by="").order_by("claimed_by", "started_at")
    found = {}
    for run_job in claimed:
        worker = found.setdefault(
            run_job.claimed_by,
            {"name": run_job.claimed_by, "host": run_job.worker_host, "last_heartbeat": None, "responding": True, "run_jobs": []},
        )
        worker["run_jobs"].append(describe_run_job(run_job, request))
        if run_job.heartbeat_at and (worker["last_heartbeat"] is None or run_job.heartbeat_at > worker["last_heartbeat"]):
            worker["last_heartbeat"] = run_job.heartbeat_at
        worker["responding"] = worker["responding"] and not claim_is_dead(run_job)
    return list(found.values())


def run_jobs(request):
    in_flight = RunJob.objects.filter(status__in=IN_FLIGHT)
    counts = in_flight.aggregate(
        scheduled=Count("pk", filter=Q(status=RunJobStatus.SCHEDULED)),
        queued=Count("pk", filter=Q(status=RunJobStatus.PROCESSING, claimed_by="")),
        running=Count("pk", filter=Q(status=RunJobStatus.PROCESSING) & ~Q(claimed_by="")),
        waiting_for_input=Count("pk", filter=Q(status=RunJobStatus.WAITING_FOR_INPUT)),
    )
    oldest = in_flight.order_by("created")[:LISTED]
    return {"counts": counts, "oldest": [describe_run_job(run_job, request) for run_job in oldest]}


def reaper_passes():
    return [{"at": row.created, "actions": row.actions} for row in ReaperPass.objects.all()[:LISTED]]


def overview(request):
    """The whole monitoring answer (``GET /api/monitoring/``)."""
    return {
        "broker": "embedded" if settings.EMBEDDED_BROKER else "rabbitmq",
        "queues": queues(),
        "workers": workers(request),
        "run_jobs": run_jobs(request),
        "reaper": reaper_passes(),
    }
