"""Recovery that never waits on luck: killed pool processes, lost and unpublished messages.

Real worker processes under the supervisor of ``rodan worker`` (each backend:
see conftest). Every RunJob must finish exactly once (the test job writes a
ledger line each time it starts, and a start is a claim), within two
heartbeat timeouts of the last fault.
"""

import os
import random
import signal
import sys
import time

import pytest
from builders import chain_document, make_project, run_over, step_settings, upload, valid_workflow, wait_for, wait_run
from fault_checks import pool_processes, ran_once, start_supervised_worker
from private_rabbitmq import private_rabbitmq  # noqa: F401 - a fixture
from django.conf import settings

from rodan.engine import reaper, scheduler
from rodan.models import RunJob
from rodan.models.status import RunJobStatus, RunStatus

pytestmark = pytest.mark.engine


def test_killing_pool_processes_during_a_run_loses_and_duplicates_nothing(processes, start_scheduler, monkeypatch, tmp_path):
    # The worker and scheduler get a heartbeat timeout of 10 s: the test's 6 s is near what starting a
    # worker again and finishing the run's remaining jobs take by themselves on a loaded machine.
    heartbeat_timeout = 10
    monkeypatch.setenv("RODAN_HEARTBEAT_TIMEOUT", str(heartbeat_timeout))
    ledger = tmp_path / "ledger"
    project = make_project()
    tags = ("a", "b")
    workflow = valid_workflow(project, chain_document([step_settings(t, Ledger=str(ledger), Sleep=0.2) for t in tags]))
    worker = start_supervised_worker(processes, "worker", concurrency=2)
    start_scheduler()
    for _ in range(3):  # idle pool processes, as the probe killed them
        for pid in pool_processes(worker):
            os.kill(pid, signal.SIGKILL)
        time.sleep(1)
    run = run_over(workflow, [upload(project, f"p{i}", name=f"p{i}") for i in range(20)])
    rng = random.Random(11)
    for _ in range(5):  # and busy ones, during the run
        time.sleep(1.5)
        pool = pool_processes(worker)
        if pool:
            os.kill(rng.choice(pool), signal.SIGKILL)
    last_fault = time.monotonic()
    wait_run(run, {RunStatus.FINISHED, RunStatus.FAILED}, timeout=120)
    recovery = time.monotonic() - last_fault
    assert run.status == RunStatus.FINISHED
    count, extra = ran_once(run, ledger, tags, kills=5)
    print(f"\nfaults: SIGKILL of pool processes: {count} RunJobs, {extra} started again after a kill, "
          f"recovered {recovery:.1f} s after the last kill; log: {worker.log_path}", file=sys.__stderr__)
    assert recovery < 2 * heartbeat_timeout


def purge_engine_queues():
    """Drop messages earlier tests left on the broker: these tests count what the queues hold."""
    from kombu import Queue

    from rodan.celery import app

    with app.connection_for_write() as connection:
        for name in settings.RODAN_QUEUES:
            Queue(name, channel=connection.default_channel).declare()
            connection.default_channel.queue_purge(name)


def one_step_run(project, ledger, tag, pages):
    workflow = valid_workflow(project, chain_document([step_settings(tag, Ledger=str(ledger))]))
    return run_over(workflow, [upload(project, f"{tag}{i}", name=f"{tag}{i}") for i in range(pages)])


def test_a_message_no_worker_holds_is_sent_again_within_the_heartbeat_timeout_though_the_queue_is_busy(
    start_worker, monkeypatch, tmp_path
):
    ledger = tmp_path / "ledger"
    project = make_project()
    purge_engine_queues()
    with monkeypatch.context() as lost:  # taken by a worker that froze before claiming it, say
        lost.setattr(scheduler, "send", lambda run_job: None)
        orphan = one_step_run(project, ledger, "orphan", 1)
    dispatched = time.monotonic()
    queued = one_step_run(project, ledger, "queued", 3)  # messages no worker takes yet: the queue is not empty
    assert reaper.queue_length("celery") == 3
    assert reaper.reap()["redispatched"] == 0  # too young to be judged lost

    time.sleep(settings.RODAN_HEARTBEAT_TIMEOUT / 2)
    assert reaper.reap()["redispatched"] == 0  # suspected: a live worker may be about to claim it
    time.sleep(settings.RODAN_REAPER_INTERVAL)
    assert reaper.reap()["redispatched"] == 1  # the orphan, not the three that the queue holds
    assert time.monotonic() - dispatched < settings.RODAN_HEARTBEAT_TIMEOUT
    assert reaper.queue_length("celery") == 4
    start_worker()
    for run in (orphan, queued):
        wait_run(run, {RunStatus.FINISHED, RunStatus.FAILED}, timeout=60)
        assert run.status == RunStatus.FINISHED
        ran_once(run, ledger, ("orphan",) if run is orphan else ("queued",), kills=0)


def test_a_dispatch_the_broker_refused_is_sent_as_soon_as_the_scheduler_reaches_the_broker(
    start_worker, monkeypatch, tmp_path
):
    """The publish fails as with RabbitMQ down (connection refused); the RunJob waits in the outbox, not for a timeout."""
    from kombu import Connection
    from kombu.exceptions import OperationalError
    from rodan_fixtures import free_port

    from rodan.celery import app

    ledger = tmp_path / "ledger"
    project = make_project()
    publish = app.send_task

    def to_a_broker_that_is_down(*args, **kwargs):
        with Connection(f"amqp://guest:guest@127.0.0.1:{free_port()}//", connect_timeout=1) as down:
            return publish(*args, connection=down, **kwargs)

    with pytest.raises(OperationalError) as refused:
        to_a_broker_that_is_down("rodan.run_job", args=["nothing", "nothing"])
    assert "111" in str(refused.value)  # ECONNREFUSED, as the probe saw
    start_worker()
    with monkeypatch.context() as outage:
        outage.setattr(app, "send_task", to_a_broker_that_is_down)
        run = one_step_run(project, ledger, "refused", 2)
        reaper.reap()  # the scheduler tries, and cannot publish either: they stay in the outbox
    unsent = RunJob.objects.filter(workflow_run=run)
    assert [(rj.status, rj.dispatched_at) for rj in unsent] == [(RunJobStatus.PROCESSING, None)] * 2

    started = time.monotonic()
    assert reaper.reap()["redispatched"] == 2  # the broker is back
    wait_run(run, {RunStatus.FINISHED, RunStatus.FAILED}, timeout=60)
    assert run.status == RunStatus.FINISHED and time.monotonic() - started < settings.RODAN_HEARTBEAT_TIMEOUT
    ran_once(run, ledger, ("refused",), kills=0)


@pytest.mark.services
def test_a_broker_outage_during_a_chain_costs_the_outage_and_no_more(
    private_rabbitmq, monkeypatch, start_worker, start_scheduler, tmp_path  # noqa: F811
):
    """RabbitMQ stops while the first job runs: the worker cannot publish the second; it runs once the broker is back."""
    from rodan.celery import app

    broker = private_rabbitmq()
    monkeypatch.setenv("CELERY_BROKER_URL", broker.url)
    previous = app.conf.broker_url
    app._pool = app.amqp._producer_pool = None
    app.conf.broker_url = broker.url
    try:
        ledger = tmp_path / "ledger"
        project = make_project()
        steps = [step_settings("first", Sleep=4, Ledger=str(ledger)), step_settings("second", Ledger=str(ledger))]
        # The second job's shorter time limits make it a message, not a successor the worker keeps.
        doc = chain_document(steps, job_name=["Test - Text step", "Test - Time-boxed step"])
        start_worker()
        start_scheduler()
        run = run_over(valid_workflow(project, doc), [upload(project, "p", name="p")])
        wait_for(ledger.exists, 60, "the first job to start")
        assert broker.ctl("stop_app").returncode == 0
        second = RunJob.objects.get(workflow_run=run, job_settings__Tag="second")
        wait_for(lambda: RunJob.objects.filter(pk=second.pk, status=RunJobStatus.PROCESSING, dispatched_at=None).exists(),
                 60, "the second job's dispatch to wait in the outbox")
        time.sleep(5)
        assert broker.ctl("start_app").returncode == 0  # returns once the broker takes connections again
        back = time.monotonic()
        wait_run(run, {RunStatus.FINISHED, RunStatus.FAILED}, timeout=120)
        recovery = time.monotonic() - back
        assert run.status == RunStatus.FINISHED
        count, extra = ran_once(run, ledger, ("first", "second"), kills=0)
        print(f"\nfaults: RabbitMQ stopped during a chain: {count} RunJobs, {extra} started twice, "
              f"finished {recovery:.1f} s after the broker came back", file=sys.__stderr__)
        assert recovery < 2 * settings.RODAN_HEARTBEAT_TIMEOUT
    finally:
        app._pool = app.amqp._producer_pool = None
        app.conf.broker_url = previous
