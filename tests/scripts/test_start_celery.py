"""scripts/start-celery, the worker image's entrypoint, run natively."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from builders import chain_document, make_project, run_over, step_settings, upload, valid_workflow, wait_for, wait_run

from rodan.models import RunJob
from rodan.models.status import RunJobStatus, RunStatus

pytestmark = pytest.mark.engine

SCRIPT = str(Path(__file__).resolve().parents[2] / "scripts" / "start-celery")


def _env(**extra):
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update(extra)
    return env


def _start(tmp_path, **extra):
    log = open(tmp_path / "start-celery.log", "w")
    process = subprocess.Popen([SCRIPT], stdout=log, stderr=subprocess.STDOUT, env=_env(**extra), start_new_session=True)
    process.log = tmp_path / "start-celery.log"
    return process


def _slow_run(tmp_path, seconds):
    ledger = tmp_path / "ledger"
    project = make_project()
    workflow = valid_workflow(project, chain_document([step_settings("slow", Sleep=seconds, Ledger=str(ledger))]))
    return run_over(workflow, [upload(project, "p", name="p")]), ledger


def test_sigterm_lets_the_running_job_finish(tmp_path):
    process = _start(tmp_path, CELERY_JOB_QUEUE="celery", SHUTDOWN_GRACE="60")
    try:
        run, ledger = _slow_run(tmp_path, 4)
        wait_for(ledger.exists, 60, "the job to start")
        process.send_signal(signal.SIGTERM)  # what `docker stop` sends to PID 1
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    run.refresh_from_db()
    assert run.status == RunStatus.FINISHED  # finished by the stopping worker itself
    log = process.log.read_text()
    assert "worker for queue 'celery'" in log and "stopping; the running job may take up to 60s" in log


def test_grace_period_bounds_the_stop_and_the_job_is_handed_back(tmp_path, start_worker, start_scheduler):
    process = _start(tmp_path, SHUTDOWN_GRACE="2")
    try:
        run, ledger = _slow_run(tmp_path, 8)
        wait_for(ledger.exists, 60, "the job to start")
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) != 0  # killed when the grace period ran out
        assert time.monotonic() - started < 15
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            try:
                os.killpg(process.pid, signal.SIGKILL)  # the pool child dies with its worker
            except ProcessLookupError:
                pass
    assert "grace period over" in process.log.read_text()
    start_worker()
    start_scheduler()  # the job is recovered: reaped and run again elsewhere
    wait_run(run, {RunStatus.FINISHED}, timeout=90)
    assert RunJob.objects.get(workflow_run=run).attempts == 2


def test_a_missing_service_fails_with_a_clear_message(tmp_path):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    process = _start(tmp_path, DATABASE_URL=f"postgresql://rodan@127.0.0.1:{port}/rodan", WAIT_TIMEOUT="2")
    assert process.wait(timeout=30) == 1
    assert f"127.0.0.1:{port} did not answer within 2s" in process.log.read_text()


def test_help_and_bad_numbers():
    help_text = subprocess.run([SCRIPT, "--help"], capture_output=True, text=True, env=_env())
    assert help_text.returncode == 0 and "CELERY_JOB_QUEUE" in help_text.stdout
    bad = subprocess.run([SCRIPT], capture_output=True, text=True, env=_env(CELERY_CONCURRENCY="many"))
    assert bad.returncode == 2 and "'many' is not a whole number" in bad.stderr
