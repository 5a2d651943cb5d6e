"""The faults suite: killed processes, a stopped broker, a restarted database; every RunJob finishes exactly once.

Each test prints one line for the table in ``bench/README.md`` (fault, runs,
RunJobs, lost, duplicated, stuck, recovery seconds). A ledger line written by
the test job at each start, and each start needs a claim, counts how often a
RunJob ran: "duplicated" is a RunJob that ran to the end twice, which the
claim and token forbid; a start again after its process was killed is
recovery, not duplication, and is counted separately. Broker and database
faults use private servers on their own ports (``private_rabbitmq``,
``private_postgresql``), never the machine's.
"""

import os
import random
import signal
import sys
import time

import pytest
from builders import chain_document, make_project, run_over, step_settings, upload, valid_workflow, wait_for
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from fault_checks import children, ledger_counts, ran_once, start_supervised_worker
from private_postgresql import private_postgresql  # noqa: F401 - a fixture
from private_rabbitmq import private_rabbitmq  # noqa: F401 - a fixture

from rodan import database
from rodan.models import RunJob
from rodan.models.status import RunJobStatus, RunStatus

pytestmark = pytest.mark.engine

#: Heartbeat timeout the workers and scheduler of these tests get: the goal is recovery within twice it.
HEARTBEAT_TIMEOUT = 10
#: No progress for this long is a stuck run, whatever the machine's load (the 2x goal is reported, not asserted:
#: the machine is shared, and timings are figures, not pass marks).
STUCK_SECONDS = 6 * HEARTBEAT_TIMEOUT


@pytest.fixture
def fault_settings(monkeypatch):
    monkeypatch.setenv("RODAN_HEARTBEAT_TIMEOUT", str(HEARTBEAT_TIMEOUT))
    monkeypatch.setattr(settings, "RODAN_HEARTBEAT_TIMEOUT", HEARTBEAT_TIMEOUT)


def report(fault, run, ledger, tags, kills, fault_ends):
    """Check exactly-once and that nothing got stuck; print the table line with the recovery time.

    Recovery is the time from the end of a fault (a server back, the last
    kill) to the next RunJob finished, the longest over ``fault_ends``; the
    longest stall is the longest the run went without finishing a RunJob,
    faults included. Returns (RunJobs, started again).
    """
    count, again = ran_once(run, ledger, tags, kills)
    finishes = sorted(RunJob.objects.filter(workflow_run=run).values_list("finished_at", flat=True))
    recovery = max(min(f for f in finishes if f > end) - end for end in fault_ends).total_seconds()
    moments = [run.created, *finishes]
    stall = max(later - earlier for earlier, later in zip(moments, moments[1:])).total_seconds()
    total = (finishes[-1] - run.created).total_seconds()
    print(
        f"\nfault suite | {fault} | {count} RunJobs | lost 0 | duplicated 0 | stuck 0 | "
        f"started again after a kill {again} | recovery {recovery:.1f} s "
        f"(goal {2 * HEARTBEAT_TIMEOUT} s: {'met' if recovery < 2 * HEARTBEAT_TIMEOUT else 'missed'}) | "
        f"longest stall {stall:.1f} s | run took {total:.1f} s",
        file=sys.__stderr__,
    )
    assert stall < STUCK_SECONDS
    return count, again


def start_run(tmp_path, pages, tags, sleep, job_names=None):
    ledger = tmp_path / "ledger"
    project = make_project()
    steps = [step_settings(tag, Ledger=str(ledger), Sleep=sleep) for tag in tags]
    doc = chain_document(steps, job_name=job_names) if job_names else chain_document(steps)
    run = run_over(valid_workflow(project, doc), [upload(project, f"p{i}", name=f"p{i}") for i in range(pages)])
    return run, ledger


def finished_since(run, moment):
    """Whether a RunJob of the run finished after ``moment`` (with None: whether one started)."""
    run_jobs = RunJob.objects.filter(workflow_run=run)
    if moment is None:
        return run_jobs.exclude(claimed_by="").exists() or run_jobs.filter(status=RunJobStatus.FINISHED).exists()
    return run_jobs.filter(finished_at__gt=moment).exists()


def settled(run):
    """Whether the run finished or failed; polls through a database outage."""
    try:
        run.refresh_from_db()
    except database.OUTAGE_ERRORS:
        connection.close()
        return False
    return run.status in (RunStatus.FINISHED, RunStatus.FAILED)


def explain(run):
    return [(rj.job_settings.get("Tag"), rj.status, rj.error_summary) for rj in RunJob.objects.filter(workflow_run=run)]


def test_twenty_kills_of_worker_processes_main_and_pool_during_a_50_page_run(
    fault_settings, processes, start_scheduler, monkeypatch, tmp_path
):
    # A RunJob may be hit by several of the 20 kills: allow it as many starts (a give-up would be a loss here).
    monkeypatch.setenv("RODAN_MAX_ATTEMPTS", "6")
    workers = [start_supervised_worker(processes, f"worker{i}", concurrency=2) for i in (1, 2)]
    start_scheduler()
    tags = ("a", "b")
    run, ledger = start_run(tmp_path, 50, tags, sleep=1)
    wait_for(ledger.exists, 60, "the first job to start")
    rng = random.Random(20)
    hit = {"main": 0, "pool": 0}
    kills = 0
    while kills < 20:
        time.sleep(1.5)
        mains = [pid for worker in workers for pid in children(worker.pid)]
        candidates = [(pid, "main") for pid in mains] + [(pid, "pool") for main in mains for pid in children(main)]
        if not candidates:
            continue  # both workers are starting again
        pid, kind = rng.choice(candidates)  # any worker process, idle or busy
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
        hit[kind] += 1
        kills += 1
    last_kill = timezone.now()
    assert not settled(run), "the kills ended after the run (make the run longer)"
    wait_for(lambda: settled(run), 180, "the run to settle")
    assert run.status == RunStatus.FINISHED, explain(run)
    print(f"\nkills: {hit['main']} Celery main processes, {hit['pool']} pool processes", file=sys.__stderr__)
    report("20 SIGKILLs of worker processes (main and pool), 50 pages x 2 jobs", run, ledger, tags, kills, [last_kill])


@pytest.mark.services
def test_rabbitmq_stopped_30_seconds_twice_during_a_chain(
    fault_settings, private_rabbitmq, monkeypatch, start_worker, start_scheduler, tmp_path  # noqa: F811
):
    from rodan.celery import app

    broker = private_rabbitmq()
    monkeypatch.setenv("CELERY_BROKER_URL", broker.url)
    previous = app.conf.broker_url
    app._pool = app.amqp._producer_pool = None
    app.conf.broker_url = broker.url
    try:
        start_worker(concurrency=2)
        start_scheduler()
        tags = ("a", "b", "c")
        # Alternating time limits make each step a message of its own, not a successor kept by the worker.
        names = ["Test - Text step", "Test - Time-boxed step", "Test - Text step"]
        run, ledger = start_run(tmp_path, 10, tags, sleep=1, job_names=names)
        outages = []
        for _ in range(2):
            # Each outage starts once a job finished since the last (the first: once one started).
            wait_for(lambda: finished_since(run, outages[-1] if outages else None), 90, "the run to make progress")
            assert broker.ctl("stop_app").returncode == 0
            time.sleep(30)
            assert broker.ctl("start_app").returncode == 0
            outages.append(timezone.now())
        assert not settled(run), "the run ended before the second outage (make it longer)"
        wait_for(lambda: settled(run), 180, "the run to settle")
        assert run.status == RunStatus.FINISHED, explain(run)
        report("RabbitMQ stopped 30 s, twice, 10 pages x 3 jobs", run, ledger, tags, 0, outages)
    finally:
        app._pool = app.amqp._producer_pool = None
        app.conf.broker_url = previous


@pytest.fixture
def on_private_database(private_postgresql, monkeypatch):  # noqa: F811
    """This process, and the workers and scheduler it starts, use the private server's database."""
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(NAME="rodan", USER="postgres", PASSWORD="", HOST="127.0.0.1", PORT=private_postgresql.port)
    monkeypatch.setenv("DATABASE_URL", private_postgresql.url)
    try:
        call_command("migrate", interactive=False, verbosity=0)
        yield private_postgresql
    finally:
        connection.close()
        connection.settings_dict.update(saved)


@pytest.mark.services
def test_postgresql_fast_restarted_twice_while_jobs_run(fault_settings, on_private_database, start_worker, start_scheduler, tmp_path):
    start_worker(concurrency=2)
    start_worker(concurrency=2)
    start_scheduler()
    tags = ("a", "b")
    run, ledger = start_run(tmp_path, 16, tags, sleep=2)
    restarts = []
    for _ in range(2):
        wait_for(lambda: sum(ledger_counts(ledger).values()) >= 4 * (len(restarts) + 1), 90, "jobs to be running")
        on_private_database.restart_fast()  # every connection, the workers' and the scheduler's, is terminated
        restarts.append(timezone.now())
    assert not settled(run), "the run ended before the second restart (make it longer)"
    wait_for(lambda: settled(run), 180, "the run to settle")
    assert run.status == RunStatus.FINISHED, explain(run)
    count, again = report("PostgreSQL restarted (fast), twice, 16 pages x 2 jobs", run, ledger, tags, 0, restarts)
    assert again == 0  # no worker was judged dead: no job started twice
    assert all(rj.attempts == 1 for rj in RunJob.objects.filter(workflow_run=run))
    assert not RunJob.objects.filter(workflow_run=run).exclude(status=RunJobStatus.FINISHED).exists()
