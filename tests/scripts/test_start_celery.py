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

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = str(ROOT / "scripts" / "start-celery")
#: README's names for the worker's settings, and the image's former names for them.
CONCURRENCY, MAX_TASKS = "CELERY_WORKER_CONCURRENCY", "CELERY_WORKER_MAX_TASKS_PER_CHILD"
FORMER = {"CELERY_CONCURRENCY": CONCURRENCY, "CELERY_MAX_TASKS_PER_CHILD": MAX_TASKS}


def _env(**extra):
    env = {key: value for key, value in os.environ.items() if key not in {CONCURRENCY, MAX_TASKS, *FORMER}}
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
    assert help_text.returncode == 0 and help_text.stdout.startswith("start-celery: the worker image's entrypoint.")
    for name in ("CELERY_JOB_QUEUE", CONCURRENCY, MAX_TASKS, "SHUTDOWN_GRACE", "WAIT_TIMEOUT", "APP_URL"):
        assert name in help_text.stdout
    assert "set -euo pipefail" not in help_text.stdout
    for name in (CONCURRENCY, MAX_TASKS, "SHUTDOWN_GRACE", "WAIT_TIMEOUT", "CELERY_CONCURRENCY"):
        bad = subprocess.run([SCRIPT], capture_output=True, text=True, env=_env(**{name: "many"}))
        assert bad.returncode == 2 and "'many' is not a whole number" in bad.stderr, name
        assert f"{FORMER.get(name, name)}: 'many'" in bad.stderr


# -- README's names reach the worker -------------------------------------------------


def test_readme_documents_the_names_start_celery_reads():
    section = (ROOT / "README.md").read_text().split("## Configuration (environment variables)", 1)[1]
    section = section.split("\n## ", 1)[0]
    for name in ("CELERY_JOB_QUEUE", CONCURRENCY, MAX_TASKS, "SHUTDOWN_GRACE", "WAIT_TIMEOUT", "APP_URL"):
        assert f"| `{name}`" in section or f", `{name}`" in section, name


def _fake_rodan(tmp_path):
    """A `rodan` that prints its command line: what start-celery would start."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "rodan"
    fake.write_text('#!/bin/sh\necho "rodan $*"\n')
    fake.chmod(0o755)
    return bin_dir


def _command_line(tmp_path, **variables):
    env = _env(**variables)
    env["PATH"] = os.pathsep.join([str(_fake_rodan(tmp_path)), env["PATH"]])
    for key in ("DATABASE_URL", "CELERY_BROKER_URL", "APP_URL"):
        env.pop(key, None)  # nothing to wait for
    done = subprocess.run([SCRIPT], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("rodan ")]
    return line, done.stderr


@pytest.mark.parametrize(
    "variables, concurrency, max_tasks, warning",
    [
        ({}, "1", "100", ""),
        ({CONCURRENCY: "3", MAX_TASKS: "7"}, "3", "7", ""),
        ({"CELERY_CONCURRENCY": "4", "CELERY_MAX_TASKS_PER_CHILD": "9"}, "4", "9", "is deprecated, set CELERY_WORKER_"),
        ({CONCURRENCY: "2", "CELERY_CONCURRENCY": "5"}, "2", "100", "CELERY_CONCURRENCY is deprecated and ignored"),
    ],
    ids=["defaults", "readme-names", "former-names", "both"],
)
def test_readme_names_reach_the_worker_command_line(tmp_path, variables, concurrency, max_tasks, warning):
    line, stderr = _command_line(tmp_path, CELERY_JOB_QUEUE="GPU", **variables)
    assert line == f"rodan worker --queue GPU --concurrency {concurrency} --max-tasks-per-child {max_tasks}"
    if warning:
        assert warning in stderr
    else:
        assert "deprecated" not in stderr


def test_readme_names_set_the_real_workers_pool(tmp_path):
    """CELERY_WORKER_CONCURRENCY=2: two jobs at once; CELERY_WORKER_MAX_TASKS_PER_CHILD=1: a fresh process per job."""
    process = _start(tmp_path, **{CONCURRENCY: "2", MAX_TASKS: "1", "SHUTDOWN_GRACE": "30"})
    try:
        ledger = tmp_path / "ledger"
        project = make_project()
        workflow = valid_workflow(project, chain_document([step_settings("pool", Sleep=8, Ledger=str(ledger))]))
        pages = [upload(project, f"p{index}", name=f"p{index}") for index in range(4)]
        run = run_over(workflow, pages)
        lines = lambda: ledger.read_text().splitlines() if ledger.exists() else []  # noqa: E731

        def two_started():
            if process.poll() is not None:
                raise AssertionError(f"start-celery exited:\n{process.log.read_text()[-3000:]}")
            return len(lines()) >= 2

        wait_for(two_started, 60, "two jobs to start")
        # the second started while the first was still running (8 s, ample on a loaded machine): two pool processes
        assert not RunJob.objects.filter(workflow_run=run, status=RunJobStatus.FINISHED).exists()
        wait_run(run, {RunStatus.FINISHED}, timeout=90)
        pids = [line.split()[2] for line in lines()]
        assert len(pids) == 4 and len(set(pids)) == 4  # each process was recycled after its one job
        assert "worker for queue 'celery' (concurrency 2, 1 tasks per child)" in process.log.read_text()
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
