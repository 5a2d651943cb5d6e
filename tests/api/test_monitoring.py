"""``GET /api/monitoring/`` against the real broker and real workers (RabbitMQ, or the embedded broker's
files): queue depths, the worker running a job, RunJobs in flight and the reaper's passes, for staff only.
"""

import os
import signal

import pytest
from api_clients import client_for, make_user
from builders import chain_document, run_over, step_settings, upload, valid_workflow, wait_for
from django.contrib.auth import get_user_model
from queue_probe import PROBE_QUEUE, probe_queue  # noqa: F401 - a fixture

from rodan.models import Project, RunJob
from rodan.models.status import RunJobStatus

pytestmark = pytest.mark.engine


def test_staff_only_with_a_sentence():
    reply = client_for(make_user()).get("/api/monitoring/")
    assert reply.status_code == 403
    assert reply.json()["detail"].endswith(".")
    assert client_for().get("/api/monitoring/").status_code == 401


def _queues(client):
    return {queue["name"]: queue["depth"] for queue in client.get("/api/monitoring/").json()["queues"]}


def test_queue_depth_running_job_worker_and_reaper(start_worker, start_scheduler, probe_queue, tmp_path):
    admin = client_for(make_user(is_staff=True))
    before = _queues(admin)
    assert {"celery", "Python3", PROBE_QUEUE} <= set(before)
    probe_queue(3)
    assert _queues(admin)[PROBE_QUEUE] == (before[PROBE_QUEUE] or 0) + 3

    # A worker takes a slow job: it appears under the worker, as running, with a link to its run.
    owner = get_user_model().objects.create_user("monitored", "monitored@example.org", "pw")
    project = Project.objects.create(name="monitored", creator=owner)
    ledger = tmp_path / "ledger"
    workflow = valid_workflow(project, chain_document([step_settings("slow", Sleep=60, Ledger=str(ledger)), step_settings("next")]))
    worker = start_worker(queues=("celery", "Python3"))
    run = run_over(workflow, [upload(project, "p", name="p")])
    wait_for(ledger.exists, 60, "the slow job to start")
    slow = RunJob.objects.get(workflow_run=run, job_settings__Tag="slow")
    answer = admin.get("/api/monitoring/").json()
    [held] = [w for w in answer["workers"] if any(rj["uuid"] == slow.uuid.hex for rj in w["run_jobs"])]
    assert held["responding"] is True and held["last_heartbeat"]
    assert held["name"] == RunJob.objects.get(pk=slow.pk).claimed_by
    [shown] = held["run_jobs"]
    assert shown["phase"] == "running" and shown["page"] == f"/runs/{run.uuid}"
    assert client_for(owner).get(shown["url"]).json()["job_name"] == slow.job_name  # the API's own link
    assert answer["run_jobs"]["counts"]["running"] >= 1 and answer["run_jobs"]["counts"]["scheduled"] >= 1
    assert slow.uuid.hex in {rj["uuid"] for rj in answer["run_jobs"]["oldest"]}

    # The worker dies: the reaper takes the job back, and its pass is listed.
    os.killpg(worker.pid, signal.SIGKILL)
    start_scheduler()

    def redispatched():
        passes = admin.get("/api/monitoring/").json()["reaper"]
        return any(p["actions"].get("redispatched") for p in passes)

    wait_for(redispatched, 60, "the reaper's pass that dispatched the job again")
    slow.refresh_from_db()
    assert slow.status == RunJobStatus.PROCESSING and slow.attempts == 1
    workers = admin.get("/api/monitoring/").json()["workers"]
    assert not any(slow.uuid.hex in {rj["uuid"] for rj in w["run_jobs"]} for w in workers)


@pytest.mark.services
def test_an_unreachable_broker_gives_unknown_depths_not_an_error(monkeypatch):
    from rodan.celery import app

    connect = app.connection_for_write
    # A broker address where nothing listens, in place of the session's RabbitMQ.
    monkeypatch.setattr(app, "connection_for_write", lambda url=None, **options: connect("amqp://guest:guest@127.0.0.1:1//", **options))
    reply = client_for(make_user(is_staff=True)).get("/api/monitoring/")
    assert reply.status_code == 200
    assert {queue["depth"] for queue in reply.json()["queues"]} == {"unknown"}
