"""``/metrics`` against real data: a run carried out by a real worker, the broker's queue, the reaper's passes.

The expected numbers are worked out here from the database rows themselves,
so the test holds with whatever other tests left in the session's database.
"""

from datetime import timedelta

import pytest
from api_clients import client_for, make_user
from builders import chain_document, run_over, step_settings, upload, valid_workflow, wait_for, wait_run
from django.conf import settings
from django.contrib.auth import get_user_model
from prometheus_client.parser import text_string_to_metric_families
from queue_probe import PROBE_QUEUE, probe_queue  # noqa: F401 - a fixture

from rodan.metrics import DURATION_BUCKETS
from rodan.models import Project, ReaperPass, RunJob
from rodan.models.status import RunJobStatus, RunStatus

pytestmark = pytest.mark.engine

TOKEN = "s3cret-scraper-token"


def scrape(client=None):
    """{(family or sample name, labels as a sorted tuple): value} of one scrape."""
    reply = (client or client_for(make_user(is_staff=True))).get("/metrics", HTTP_ACCEPT="text/plain")
    assert reply.status_code == 200, reply.content
    assert reply["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(reply.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))))


def test_who_may_read_it(monkeypatch):
    monkeypatch.delenv("RODAN_METRICS_TOKEN", raising=False)
    anonymous = client_for().get("/metrics")
    assert anonymous.status_code == 401 and anonymous.json()["detail"].endswith(".")
    assert client_for(make_user()).get("/metrics").status_code == 403
    assert scrape()  # staff

    scraper = client_for()
    scraper.credentials(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert scraper.get("/metrics").status_code == 401  # no token configured: a bearer is nobody
    monkeypatch.setenv("RODAN_METRICS_TOKEN", TOKEN)
    assert value(scrape(scraper), "rodan_reaper_passes_total") is not None
    wrong = client_for()
    wrong.credentials(HTTP_AUTHORIZATION=f"Bearer {TOKEN}x")
    refused = wrong.get("/metrics")
    assert refused.status_code == 401 and "RODAN_METRICS_TOKEN" in refused.json()["detail"]

    openmetrics = scraper.get("/metrics", HTTP_ACCEPT="application/openmetrics-text; version=1.0.0")
    assert openmetrics["Content-Type"].startswith("application/openmetrics-text")
    assert openmetrics.content.decode().rstrip().endswith("# EOF")


def expected_histograms():
    """{job name: (bucket counts, count, sum)} worked out in Python from the finished RunJobs' rows."""
    found = {}
    for run_job in RunJob.objects.filter(status=RunJobStatus.FINISHED, started_at__isnull=False, finished_at__isnull=False):
        seconds = (run_job.finished_at - run_job.started_at) / timedelta(seconds=1)
        buckets, count, total = found.get(run_job.job_name, ([0] * len(DURATION_BUCKETS), 0, 0.0))
        buckets = [n + (seconds <= bound) for n, bound in zip(buckets, DURATION_BUCKETS)]
        found[run_job.job_name] = (buckets, count + 1, total + seconds)
    return found


def test_a_run_the_queues_the_workers_and_the_reaper(start_worker, probe_queue, tmp_path):
    before = scrape()
    owner = get_user_model().objects.create_user("measured", "measured@example.org", "pw")
    project = Project.objects.create(name="measured", creator=owner)
    ledger = tmp_path / "ledger"
    workflow = valid_workflow(
        project, chain_document([step_settings("slow", Sleep=3, Ledger=str(ledger)), step_settings("next", Sleep=0.6)])
    )
    start_worker(queues=("celery", "Python3"))
    probe_queue(3)
    run = run_over(workflow, [upload(project, "p", name="p")])
    wait_for(ledger.exists, 60, "the slow job to start")

    # While the slow job runs: its worker's heartbeat is fresh, the run and the job are counted as running.
    running = scrape()
    slow = RunJob.objects.get(workflow_run=run, job_settings__Tag="slow")
    worker, host = slow.claimed_by, slow.worker_host
    assert worker and host
    assert 0 <= value(running, "rodan_worker_heartbeat_age_seconds", worker=worker, host=host) < settings.RODAN_HEARTBEAT_TIMEOUT
    assert value(running, "rodan_worker_responding", worker=worker, host=host) == 1
    assert value(running, "rodan_worker_run_jobs", worker=worker, host=host) == 1
    assert value(running, "rodan_queue_running_jobs", queue="celery") >= 1
    assert value(running, "rodan_run_jobs_in_flight", phase="running") >= 1
    assert value(running, "rodan_run_jobs", status="processing") >= 1
    assert value(running, "rodan_workflow_runs", status="processing") >= 1
    assert value(running, "rodan_queue_depth", queue=PROBE_QUEUE) == (value(before, "rodan_queue_depth", queue=PROBE_QUEUE) or 0) + 3
    assert value(running, "rodan_queue_depth_known", queue=PROBE_QUEUE) == 1

    wait_run(run, {RunStatus.FINISHED})
    passes_before = ReaperPass.objects.count()
    ReaperPass.record({"redispatched": 2, "recovered": 1, "failed": 0})
    ReaperPass.record({"redispatched": 1})
    after = scrape()

    # Statuses: the database's counts, by label.
    for status in RunJobStatus:
        label = status.label.lower().replace(" ", "_")
        assert value(after, "rodan_run_jobs", status=label) == RunJob.objects.filter(status=status).count()
    assert value(after, "rodan_workflow_runs", status="finished") == value(before, "rodan_workflow_runs", status="finished") + 1

    # Durations: every job's histogram equals what the rows say, and the two new RunJobs are in it.
    expected = expected_histograms()
    for job_name, (buckets, count, total) in expected.items():
        for bound, n in zip(DURATION_BUCKETS, buckets):
            assert value(after, "rodan_job_duration_seconds_bucket", job=job_name, le=str(float(bound))) == n
        assert value(after, "rodan_job_duration_seconds_bucket", job=job_name, le="+Inf") == count
        assert value(after, "rodan_job_duration_seconds_count", job=job_name) == count
        assert value(after, "rodan_job_duration_seconds_sum", job=job_name) == pytest.approx(total, abs=1e-3)
    job_name = slow.job_name
    grown = value(after, "rodan_job_duration_seconds_count", job=job_name) - (
        value(before, "rodan_job_duration_seconds_count", job=job_name) or 0
    )
    assert grown == 2
    slow.refresh_from_db()
    assert (slow.finished_at - slow.started_at).total_seconds() >= 3  # the slow one slept 3 s: above the 2.5 s bucket
    assert value(after, "rodan_job_duration_seconds_sum", job=job_name) - (
        value(before, "rodan_job_duration_seconds_sum", job=job_name) or 0
    ) >= 3.6

    # No worker holds a claim any more: it is gone from the heartbeats.
    assert value(after, "rodan_worker_run_jobs", worker=worker, host=host) is None

    # The reaper's passes: counted by id (which only grows), their actions summed over the passes kept.
    newest = ReaperPass.objects.first()
    assert value(after, "rodan_reaper_passes_total") == newest.id
    assert value(after, "rodan_reaper_last_action_timestamp_seconds") == pytest.approx(newest.created.timestamp())
    kept = ReaperPass.objects.all()
    assert kept.count() == passes_before + 2
    assert value(after, "rodan_reaper_recent_actions", kind="redispatched") == sum(p.actions.get("redispatched", 0) for p in kept)
    assert value(after, "rodan_reaper_recent_actions", kind="redispatched") - (
        value(before, "rodan_reaper_recent_actions", kind="redispatched") or 0
    ) == 3
    assert value(after, "rodan_reaper_recent_actions", kind="failed") == value(before, "rodan_reaper_recent_actions", kind="failed")
