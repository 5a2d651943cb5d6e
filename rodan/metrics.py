"""``/metrics``: what Prometheus scrapes, read from the database and the broker at scrape time.

A collector that reads at scrape time is right across processes: jobs finish
in worker processes on other hosts, the reaper runs in the scheduler, and
each web process would only see its own counters if they were kept in memory.
The database already records all of it (RunJob start and finish times, the
claims and heartbeats, ``ReaperPass``), and ``rodan.monitoring`` already
gathers the queue depths and the workers for the monitoring page; this
module only turns them into Prometheus families.

Who may read it (``allowed``): staff users, like ``/api/monitoring/``, and,
when ``RODAN_METRICS_TOKEN`` is set, whoever sends
``Authorization: Bearer <that token>`` (Prometheus's ``authorization``
setting).
"""

import hmac
import os
from datetime import timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Q, Sum
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import CollectorRegistry

from rodan import monitoring
from rodan.models import ReaperPass, RunJob, WorkflowRun
from rodan.models.reaper_pass import KEPT
from rodan.models.status import RunJobStatus, RunStatus

TOKEN_ENV = "RODAN_METRICS_TOKEN"

#: Upper bounds (seconds) of the job duration buckets: from a threshold on a small page to an hour-long job.
DURATION_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)


def allowed(request, user):
    """Staff, or the bearer of ``RODAN_METRICS_TOKEN`` when it is set (compared in constant time)."""
    if user is not None and user.is_staff:
        return True
    token = os.environ.get(TOKEN_ENV, "")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def _label(choice):
    """A status's label as a Prometheus label value: ``Waiting for input`` -> ``waiting_for_input``."""
    return choice.label.lower().replace(" ", "_")


def _by_status(model, statuses, name, documentation):
    counts = dict(model.objects.values_list("status").annotate(count=Count("pk")).order_by())
    family = GaugeMetricFamily(name, documentation, labels=["status"])
    for status in statuses:
        family.add_metric([_label(status)], counts.get(status.value, 0))
    return family


def _run_jobs_in_flight(request):
    counts = monitoring.run_jobs(request)["counts"]
    family = GaugeMetricFamily(
        "rodan_run_jobs_in_flight", "RunJobs in flight by phase (scheduled, queued, running, waiting_for_input)", labels=["phase"]
    )
    for phase, count in counts.items():
        family.add_metric([phase], count)
    return family


def _queues():
    """Depth of each queue; a queue the broker cannot measure has no sample (``rodan_queue_depth_known`` 0)."""
    depth = GaugeMetricFamily("rodan_queue_depth", "Messages waiting in the queue (jobs sent, not yet taken)", labels=["queue"])
    known = GaugeMetricFamily("rodan_queue_depth_known", "1 when the broker could count the queue, else 0", labels=["queue"])
    for queue in monitoring.queues():
        measured = queue["depth"] != monitoring.UNKNOWN
        known.add_metric([queue["name"]], int(measured))
        if measured:
            depth.add_metric([queue["name"]], queue["depth"])
    running = GaugeMetricFamily(
        "rodan_queue_running_jobs", "RunJobs a worker has claimed and is running, by their job's queue", labels=["queue"]
    )
    claimed = (
        RunJob.objects.filter(status=RunJobStatus.PROCESSING)
        .exclude(claimed_by="")
        .values_list("job__job_queue")
        .annotate(count=Count("pk"))
        .order_by()
    )
    for queue, count in claimed:
        running.add_metric([queue or ""], count)
    return [depth, known, running]


def _durations():
    """A histogram per job name over every finished RunJob the database holds (deleting runs lowers it: a reset)."""
    duration = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    buckets = {
        f"le_{index}": Count("pk", filter=Q(duration__lte=timedelta(seconds=bound)))
        for index, bound in enumerate(DURATION_BUCKETS)
    }
    rows = (
        RunJob.objects.filter(status=RunJobStatus.FINISHED, started_at__isnull=False, finished_at__isnull=False)
        .annotate(duration=duration)
        .values("job_name")
        .annotate(count=Count("pk"), total=Sum("duration"), **buckets)
        .order_by("job_name")
    )
    family = HistogramMetricFamily(
        "rodan_job_duration_seconds",
        "Time from a worker's start of a RunJob to its finish, finished RunJobs by job",
        labels=["job"],
    )
    for row in rows:
        cumulative = [(str(float(bound)), row[f"le_{index}"]) for index, bound in enumerate(DURATION_BUCKETS)]
        total = row["total"].total_seconds() if row["total"] is not None else 0.0
        family.add_metric([row["job_name"]], cumulative + [("+Inf", row["count"])], sum_value=max(total, 0.0))
    return family


def _workers(request):
    """Each worker process holding a claim: seconds since its newest heartbeat, and whether the reaper deems it alive."""
    now = timezone.now()
    labels = ["worker", "host"]
    age = GaugeMetricFamily(
        "rodan_worker_heartbeat_age_seconds", "Seconds since the worker process last stamped a RunJob it runs", labels=labels
    )
    responding = GaugeMetricFamily(
        "rodan_worker_responding", "1 while the worker's claims are alive, 0 once the reaper would take its jobs back", labels=labels
    )
    running = GaugeMetricFamily("rodan_worker_run_jobs", "RunJobs the worker process runs now", labels=labels)
    for worker in monitoring.workers(request):
        values = [worker["name"], worker["host"]]
        if worker["last_heartbeat"] is not None:
            age.add_metric(values, max((now - worker["last_heartbeat"]).total_seconds(), 0.0))
        responding.add_metric(values, int(worker["responding"]))
        running.add_metric(values, len(worker["run_jobs"]))
    return [age, responding, running]


def _reaper():
    """The reaper's passes that changed something: ids only grow, so the newest id counts them all."""
    newest = ReaperPass.objects.aggregate(id=Max("id"), at=Max("created"))
    passes = CounterMetricFamily("rodan_reaper_passes", "Reaper passes that changed something (recovered, re-sent, failed, ...)")
    passes.add_metric([], newest["id"] or 0)
    families = [passes]
    if newest["at"] is not None:
        last = GaugeMetricFamily("rodan_reaper_last_action_timestamp_seconds", "When the reaper last changed something (Unix time)")
        last.add_metric([], newest["at"].timestamp())
        families.append(last)
    actions = {}
    for row in ReaperPass.objects.values_list("actions", flat=True):
        for kind, count in row.items():
            actions[kind] = actions.get(kind, 0) + count
    recent = GaugeMetricFamily(
        "rodan_reaper_recent_actions", f"What the reaper did over the passes kept (the newest {KEPT}), by kind", labels=["kind"]
    )
    for kind, count in sorted(actions.items()):
        recent.add_metric([kind], count)
    families.append(recent)
    return families


class RodanCollector:
    """Every family above, gathered afresh at each scrape."""

    def __init__(self, request):
        self.request = request

    def collect(self):
        yield _by_status(WorkflowRun, RunStatus, "rodan_workflow_runs", "Workflow runs by status")
        yield _by_status(RunJob, RunJobStatus, "rodan_run_jobs", "RunJobs by status")
        yield _run_jobs_in_flight(self.request)
        yield from _queues()
        yield _durations()
        yield from _workers(self.request)
        yield from _reaper()


def registry(request):
    """A registry holding only Rodan's families, for one scrape (the process's own metrics are not Rodan's)."""
    collectors = CollectorRegistry(auto_describe=False)
    collectors.register(RodanCollector(request))
    return collectors
