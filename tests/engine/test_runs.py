"""Workflow runs on real Celery worker processes (each backend: see conftest)."""

import os
import signal
import time
from pathlib import Path

import pytest
from builders import chain_document, make_project, output_texts, run_over, step_settings, upload, valid_workflow, wait_for, wait_run

from rodan.engine import control, lifecycle
from rodan.models import Resource, RunJob
from rodan.models.status import RunJobStatus, RunStatus

pytestmark = pytest.mark.engine


def test_three_job_chain_over_five_pages_on_two_workers(start_worker, tmp_path):
    ledger = tmp_path / "ledger"
    project = make_project()
    workflow = valid_workflow(
        project, chain_document([step_settings(tag, Ledger=str(ledger), Sleep=0.2) for tag in ("a", "b", "c")])
    )
    pages = [upload(project, f"page{i}", name=f"page{i}") for i in range(5)]
    start_worker()
    start_worker()
    run = run_over(workflow, pages)
    wait_run(run, {RunStatus.FINISHED, RunStatus.FAILED})

    assert run.status == RunStatus.FINISHED
    assert output_texts(run) == {f"page{i}": f"page{i}+a+b+c" for i in range(5)}
    run_jobs = RunJob.objects.filter(workflow_run=run)
    assert run_jobs.count() == 15
    assert {rj.status for rj in run_jobs} == {RunJobStatus.FINISHED}
    for rj in run_jobs:  # what every RunJob records
        assert rj.job_version == "test" and rj.worker_host and rj.attempts == 1
        assert rj.started_at <= rj.finished_at and rj.job_settings["Tag"] in "abc"
    lines = ledger.read_text().splitlines()
    assert len(lines) == 15  # each RunJob ran exactly once
    assert len({line.split()[2] for line in lines}) == 2  # ...spread over both workers


def test_failed_job_fails_the_run_and_retry_finishes_it(start_worker, tmp_path):
    marker = tmp_path / "marker"
    project = make_project()
    workflow = valid_workflow(
        project, chain_document([step_settings("a"), step_settings("b", **{"Fail unless exists": str(marker)})])
    )
    start_worker()
    run = run_over(workflow, [upload(project, "x", name="x"), upload(project, "y", name="y")])
    wait_run(run, {RunStatus.FAILED})
    failed = RunJob.objects.filter(workflow_run=run, status=RunJobStatus.FAILED)
    wait_for(lambda: failed.count() == 2, what="both chains to fail")
    assert "marker" in failed.first().error_summary and "Traceback" in failed.first().error_details
    assert not Resource.objects.filter(origin__run_job__in=failed).exclude(resource_file="").exists()

    marker.write_text("")
    lifecycle.retry_run(run)
    wait_run(run, {RunStatus.FINISHED})
    assert output_texts(run) == {"x": "x+a+b", "y": "y+a+b"}
    assert not RunJob.objects.filter(workflow_run=run).exclude(error_summary="").exists()


def test_cancel_stops_a_running_job(start_worker, tmp_path):
    ledger = tmp_path / "ledger"
    project = make_project()
    workflow = valid_workflow(project, chain_document([step_settings("slow", Sleep=60, Ledger=str(ledger)), step_settings("next")]))
    start_worker()
    run = run_over(workflow, [upload(project, "p", name="p")])
    wait_for(ledger.exists, 30, "the slow job to start")
    started = time.monotonic()
    lifecycle.cancel_run(run)
    slow = RunJob.objects.get(workflow_run=run, job_settings__Tag="slow")
    # The job stops at its next check: the worker is free again well before the 60 s sleep ends.
    follow_up = run_over(valid_workflow(project, chain_document([step_settings("quick")])), [upload(project, "q", name="q")])
    wait_run(follow_up, {RunStatus.FINISHED}, timeout=30)
    assert time.monotonic() - started < 30
    slow.refresh_from_db()
    run.refresh_from_db()
    assert slow.status == RunJobStatus.CANCELLED and run.status == RunStatus.CANCELLED
    assert not RunJob.objects.filter(workflow_run=run, status=RunJobStatus.FINISHED).exists()
    assert not Resource.objects.filter(origin__run_job__workflow_run=run).exclude(resource_file="").exists()


def test_redo_reruns_the_chosen_job_and_everything_downstream(start_worker, tmp_path):
    ledger = tmp_path / "ledger"
    project = make_project()
    workflow = valid_workflow(project, chain_document([step_settings(t, Ledger=str(ledger)) for t in ("a", "b", "c")]))
    start_worker()
    run = run_over(workflow, [upload(project, "p", name="p")])
    wait_run(run, {RunStatus.FINISHED})
    assert ledger.read_text().count("\n") == 3

    middle = RunJob.objects.get(workflow_run=run, job_settings__Tag="b")
    control.redo_from(middle)
    run.refresh_from_db()
    assert run.status == RunStatus.RETRYING
    wait_run(run, {RunStatus.FINISHED})
    tags = [line.split()[0] for line in ledger.read_text().splitlines()]
    assert tags == ["a", "b", "c", "b", "c"]  # the first job did not run again
    assert output_texts(run) == {"Test - Text step - Text output": "p+a+b+c"}  # one page: not a batch


def test_duplicated_message_runs_the_job_once(start_worker, tmp_path):
    from rodan.engine.scheduler import send

    ledger = tmp_path / "ledger"
    project = make_project()
    workflow = valid_workflow(project, chain_document([step_settings("once", Sleep=1.5, Ledger=str(ledger))]))
    start_worker()
    start_worker()
    run = run_over(workflow, [upload(project, "p", name="p")])
    run_job = wait_for(
        lambda: RunJob.objects.filter(workflow_run=run, status=RunJobStatus.PROCESSING).exclude(dispatch_token="").first(),
        what="dispatch",
    )
    for _ in range(3):  # the broker delivering the same message again, several times
        send(run_job)
    wait_run(run, {RunStatus.FINISHED})
    time.sleep(2)  # give the duplicates time to arrive and be dropped
    assert ledger.read_text().count("\n") == 1
    run_job.refresh_from_db()
    assert run_job.attempts == 1 and run_job.status == RunJobStatus.FINISHED


def _child_pids(parent):
    children = Path(f"/proc/{parent}/task/{parent}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def test_worker_killed_mid_job_the_job_completes_elsewhere(start_worker, start_scheduler, tmp_path):
    ledger = tmp_path / "ledger"
    project = make_project()
    workflow = valid_workflow(project, chain_document([step_settings("victim", Sleep=8, Ledger=str(ledger))]))
    first = start_worker()
    run = run_over(workflow, [upload(project, "p", name="p")])
    wait_for(ledger.exists, 30, "the job to start")
    pid = int(ledger.read_text().split()[2])
    start_worker()
    start_scheduler()
    os.kill(pid, signal.SIGKILL)  # the pool process running the job dies mid-job
    os.killpg(first.pid, signal.SIGKILL)  # and so does its whole worker
    wait_run(run, {RunStatus.FINISHED, RunStatus.FAILED}, timeout=90)
    assert run.status == RunStatus.FINISHED
    run_job = RunJob.objects.get(workflow_run=run)
    assert run_job.attempts == 2
    assert output_texts(run) == {"Test - Text step - Text output": "p+victim"}


def test_job_that_keeps_killing_its_worker_fails_with_a_clear_error(start_worker, start_scheduler, tmp_path):
    ledger = tmp_path / "ledger"
    project = make_project()
    workflow = valid_workflow(project, chain_document([step_settings("doomed", Sleep=30, Ledger=str(ledger))]))
    worker = start_worker()
    start_scheduler()
    run = run_over(workflow, [upload(project, "p", name="p")])
    killed = set()

    def kill_running_job():
        for line in ledger.read_text().splitlines() if ledger.exists() else []:
            pid = int(line.split()[2])
            if pid not in killed:
                killed.add(pid)
                os.kill(pid, signal.SIGKILL)
        run.refresh_from_db()
        return run.status == RunStatus.FAILED

    wait_for(kill_running_job, 120, "the run to fail after repeated worker deaths", interval=0.3)
    run_job = RunJob.objects.get(workflow_run=run)
    assert run_job.status == RunJobStatus.FAILED
    assert "giving up" in run_job.error_summary and len(killed) == 3
    assert worker.poll() is None  # the worker itself kept serving


def test_job_over_its_soft_time_limit_fails_clearly_and_the_worker_serves_on(start_worker):
    project = make_project()
    slow = valid_workflow(project, chain_document([step_settings("slow", Sleep=20)], job_name="Test - Time-boxed step"))
    start_worker()
    run = run_over(slow, [upload(project, "p", name="p")])
    wait_run(run, {RunStatus.FAILED}, timeout=60)
    run_job = RunJob.objects.get(workflow_run=run)
    assert run_job.error_summary == "The job exceeded its time limit of 2 seconds and was stopped."
    quick = valid_workflow(project, chain_document([step_settings("quick")], job_name="Test - Time-boxed step"))
    follow_up = run_over(quick, [upload(project, "q", name="q")])
    wait_run(follow_up, {RunStatus.FINISHED}, timeout=30)


def test_lost_message_is_sent_again_by_the_scheduler(start_worker, start_scheduler, tmp_path):
    """A RunJob marked dispatched whose message never reached the broker is not stuck forever."""
    from datetime import timedelta

    from django.utils import timezone

    from rodan.engine import scheduler

    project = make_project()
    workflow = valid_workflow(project, chain_document([step_settings("lost")]))
    sent = []
    real_send = scheduler.send
    scheduler.send = sent.append  # the publish is lost, e.g. a crash right after the commit
    try:
        run = run_over(workflow, [upload(project, "p", name="p")])
    finally:
        scheduler.send = real_send
    assert len(sent) == 1
    run_job = RunJob.objects.get(workflow_run=run)
    assert run_job.status == RunJobStatus.PROCESSING and run_job.claimed_by == ""
    RunJob.objects.filter(pk=run_job.pk).update(dispatched_at=timezone.now() - timedelta(seconds=60))
    start_worker()
    start_scheduler()
    wait_run(run, {RunStatus.FINISHED}, timeout=60)
    run_job.refresh_from_db()
    assert run_job.dispatch_token == sent[0].dispatch_token and run_job.attempts == 1  # its message, sent again
