"""A worker that finishes a RunJob runs the successor it made ready, without a message.

Real Celery workers (each backend: see conftest). The kept successor must keep
every guarantee of a message's RunJob: it runs once, a cancel stops it, its
worker's death is recovered by the reaper, and its own time limit holds.
"""

import os
import re
import signal
import time

import pytest
from builders import chain_document, make_project, output_texts, run_over, step_settings, upload, valid_workflow, wait_for, wait_run

from rodan.engine import lifecycle
from rodan.models import RunJob
from rodan.models.status import RunJobStatus, RunStatus

pytestmark = pytest.mark.engine

TIME_BOXED = "Test - Time-boxed step"


def messages_received(worker):
    """Engine messages the worker has taken from the broker (its log)."""
    return len(re.findall(r"Task rodan\.run_job\[[^]]*\] received", worker.log_path.read_text(errors="replace")))


def purge_engine_queues():
    """Drop messages earlier tests left on the shared broker, so this worker's log counts only ours."""
    from django.conf import settings
    from kombu import Queue

    from rodan.celery import app

    with app.connection_for_write() as connection:
        for name in settings.RODAN_QUEUES:
            Queue(name, channel=connection.default_channel).declare()
            connection.default_channel.queue_purge(name)


def kept(run_job):
    """Whether the RunJob was claimed when dispatched (kept by a worker), not sent."""
    run_job.refresh_from_db()
    return run_job.started_at is not None and run_job.started_at == run_job.dispatched_at


def test_a_chain_on_one_worker_needs_one_message_per_page_and_runs_each_job_once(start_worker, tmp_path):
    ledger = tmp_path / "ledger"
    project = make_project()
    workflow = valid_workflow(project, chain_document([step_settings(t, Ledger=str(ledger)) for t in ("a", "b", "c")]))
    purge_engine_queues()
    worker = start_worker()
    run = run_over(workflow, [upload(project, f"p{i}", name=f"p{i}") for i in range(3)])
    wait_run(run, {RunStatus.FINISHED, RunStatus.FAILED})

    assert run.status == RunStatus.FINISHED
    assert output_texts(run) == {f"p{i}": f"p{i}+a+b+c" for i in range(3)}
    lines = ledger.read_text().splitlines()
    assert sorted(lines) == sorted(f"{t} p{i} {lines[0].split()[2]}" for t in "abc" for i in range(3))  # once each
    run_jobs = list(RunJob.objects.filter(workflow_run=run))
    assert {(rj.status, rj.attempts) for rj in run_jobs} == {(RunJobStatus.FINISHED, 1)}
    later = [rj for rj in run_jobs if rj.job_settings["Tag"] != "a"]
    assert all(kept(rj) for rj in later)
    assert messages_received(worker) == 3  # one per page: the first job's


def test_cancel_stops_a_kept_job(start_worker, tmp_path):
    ledger = tmp_path / "ledger"
    project = make_project()
    steps = [step_settings("quick", Ledger=str(ledger)), step_settings("slow", Sleep=60, Ledger=str(ledger))]
    purge_engine_queues()
    worker = start_worker()
    run = run_over(valid_workflow(project, chain_document(steps)), [upload(project, "p", name="p")])
    wait_for(lambda: "slow" in (ledger.read_text() if ledger.exists() else ""), 30, "the kept job to start")
    slow = RunJob.objects.get(workflow_run=run, job_settings__Tag="slow")
    assert kept(slow) and messages_received(worker) == 1

    started = time.monotonic()
    lifecycle.cancel_run(run)
    follow_up = run_over(valid_workflow(project, chain_document([step_settings("next")])), [upload(project, "q", name="q")])
    wait_run(follow_up, {RunStatus.FINISHED}, timeout=30)
    assert time.monotonic() - started < 30  # the 60 s job stopped at its next heartbeat
    slow.refresh_from_db()
    assert slow.status == RunJobStatus.CANCELLED
    assert output_texts(run) == {}


def test_worker_killed_during_a_kept_job_the_reaper_recovers_it(start_worker, start_scheduler, tmp_path):
    ledger = tmp_path / "ledger"
    project = make_project()
    steps = [step_settings("first", Ledger=str(ledger)), step_settings("victim", Sleep=3, Ledger=str(ledger))]
    first = start_worker()
    run = run_over(valid_workflow(project, chain_document(steps)), [upload(project, "p", name="p")])
    wait_for(lambda: "victim" in (ledger.read_text() if ledger.exists() else ""), 30, "the kept job to start")
    victim = RunJob.objects.get(workflow_run=run, job_settings__Tag="victim")
    assert kept(victim)
    pid = int(ledger.read_text().splitlines()[-1].split()[-1])
    os.kill(pid, signal.SIGKILL)  # the pool process dies during the kept job
    os.killpg(first.pid, signal.SIGKILL)  # and so does its whole worker
    start_worker()
    start_scheduler()
    wait_run(run, {RunStatus.FINISHED, RunStatus.FAILED}, timeout=90)
    assert run.status == RunStatus.FINISHED
    victim.refresh_from_db()
    assert victim.attempts == 2 and not kept(victim)  # sent again by the reaper this time
    assert [line.split()[0] for line in ledger.read_text().splitlines()] == ["first", "victim", "victim"]
    assert output_texts(run) == {"Test - Text step - Text output": "p+first+victim"}


def test_a_kept_job_keeps_its_own_soft_time_limit(start_worker):
    project = make_project()
    steps = [step_settings("quick"), step_settings("slow", Sleep=20)]
    start_worker()
    run = run_over(valid_workflow(project, chain_document(steps, job_name=TIME_BOXED)), [upload(project, "p", name="p")])
    started = time.monotonic()
    wait_run(run, {RunStatus.FAILED, RunStatus.FINISHED}, timeout=60)
    assert run.status == RunStatus.FAILED and time.monotonic() - started < 15
    slow = RunJob.objects.get(workflow_run=run, job_settings__Tag="slow")
    assert kept(slow)
    assert slow.error_summary == "The job exceeded its time limit of 2 seconds and was stopped."


def test_a_successor_with_a_shorter_hard_limit_is_sent_not_kept(start_worker):
    """Celery's hard limit counts from the message: a job whose own limit is much shorter gets a message."""
    project = make_project()
    doc = chain_document([step_settings("long limits"), step_settings("short limits")], job_name=["Test - Text step", TIME_BOXED])
    worker = start_worker()
    run = run_over(valid_workflow(project, doc), [upload(project, "p", name="p")])
    wait_run(run, {RunStatus.FINISHED})
    assert not kept(RunJob.objects.get(workflow_run=run, job_settings__Tag="short limits"))
    assert messages_received(worker) == 2
