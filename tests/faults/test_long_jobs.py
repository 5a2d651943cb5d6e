"""Jobs longer than RabbitMQ's consumer_timeout finish once, and the worker stays up.

A private RabbitMQ node (its own ports and files) with ``consumer_timeout``
at 10 s, checked every second; real workers; 30 s jobs.
"""

import re
import time

import pytest
from builders import chain_document, make_project, run_over, step_settings, upload, valid_workflow, wait_run
from private_rabbitmq import private_rabbitmq  # noqa: F401 (fixture)

from rodan.models import RunJob
from rodan.models.status import RunJobStatus, RunStatus

pytestmark = [pytest.mark.engine, pytest.mark.services]

CONSUMER_TIMEOUT_MS = 10_000
JOB_SECONDS = 30


@pytest.fixture
def short_timeout_broker(private_rabbitmq, monkeypatch):  # noqa: F811
    """Workers started by the test, and this process's dispatches, use the private node."""
    from rodan.celery import app

    broker = private_rabbitmq(
        [f"consumer_timeout = {CONSUMER_TIMEOUT_MS}"],
        "[{rabbit, [{channel_tick_interval, 1000}]}].\n",  # check the timeout every second, not every minute
    )
    monkeypatch.setenv("CELERY_BROKER_URL", broker.url)
    previous = app.conf.broker_url
    _use_broker(app, broker.url)
    yield broker
    _use_broker(app, previous)


def _use_broker(app, url):
    app._pool = app.amqp._producer_pool = None
    app.conf.broker_url = url


def test_jobs_longer_than_the_consumer_timeout_finish_once_and_the_worker_stays_up(
    short_timeout_broker, start_worker, start_scheduler, tmp_path
):
    ledger = tmp_path / "ledger"
    project = make_project()
    step = step_settings("long", Sleep=JOB_SECONDS, Ledger=str(ledger))
    workflow = valid_workflow(project, chain_document([step]))
    worker = start_worker(concurrency=2)
    start_scheduler()
    started = time.monotonic()
    # Three pages on a two-process worker: the third message waits for a process to be free.
    run = run_over(workflow, [upload(project, f"p{i}", name=f"p{i}") for i in range(3)])
    try:
        wait_run(run, {RunStatus.FINISHED, RunStatus.FAILED}, timeout=4 * JOB_SECONDS + 60)
    finally:
        elapsed = time.monotonic() - started
        log = worker.log_path.read_text(errors="replace")
        if run.status != RunStatus.FINISHED:
            print(log[-6000:])
    assert run.status == RunStatus.FINISHED, log[-3000:]
    assert sorted(line.split()[1] for line in ledger.read_text().splitlines()) == ["p0", "p1", "p2"]  # each ran once
    assert {(rj.status, rj.attempts) for rj in RunJob.objects.filter(workflow_run=run)} == {(RunJobStatus.FINISHED, 1)}
    assert worker.poll() is None, log[-3000:]
    assert not re.search(r"PreconditionFailed|acknowledgement timed out", log), log[-3000:]
    print(f"3 x {JOB_SECONDS} s jobs, 2 processes, consumer_timeout {CONSUMER_TIMEOUT_MS / 1000:g} s: finished in {elapsed:.0f} s")
