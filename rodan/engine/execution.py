"""Running one RunJob on a worker: claim, call the job, install outputs, report.

The message says "run RunJob X with token T"; the database decides whether it
still may. A message is dropped when its token is stale (the RunJob was
re-dispatched, cancelled or finished) or when another live process is
already running the RunJob, so a duplicated or redelivered message never runs
a job twice. A redelivery after the running process died takes the job over.

While the job runs, a heartbeat thread stamps the row; if the row stops being
ours (cancel, redo, or the reaper gave the job to someone else) the thread
raises ``JobCancelled`` inside the job, which stops it at its next Python
bytecode. Outputs are written to a scratch folder and renamed into place in
the transaction that marks the RunJob finished.

A worker that finishes a RunJob keeps one successor its outputs made ready,
claimed for itself in the finishing transaction, and runs it next: no
message, no broker round trip, no separate claim. It stays a claim like any
other (owner and heartbeat, so the reaper recovers it if the process dies; a
cancel or redo stops it). A message's task goes on so for at most
``scheduler.CHAIN_BUDGET`` seconds, so it never runs much longer than one
job and other messages are not starved. Celery's time limits count from the
message, so messages carry the budget as headroom and each RunJob's own soft
limit is enforced here (``SIGALRM``, which interrupts a sleeping job as
Celery's soft limit does); a successor is kept only while the message's hard
limit falls between the successor's and the budget beyond it.
"""

import contextlib

import ctypes
import logging
import os
import signal
import socket
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

from celery import current_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from rodan import database, file_access, storage, tiles
from rodan.engine import lifecycle
from rodan.engine.scheduler import CHAIN_BUDGET, job_time_limits, queue_of
from rodan.jobs.base import WAITING_FOR_INPUT, JobCancelled, error_information
from rodan.jobs.registry import get_registry
from rodan.models import Resource, ResourceListMembership, RunJob, WorkflowRun
from rodan.models.status import RunJobStatus

logger = logging.getLogger(__name__)

HOST = socket.gethostname()


def worker_identity():
    return f"{HOST}:{os.getpid()}"


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def claim_is_dead(run_job, now=None, heard_until=None):
    """Whether the process that claimed ``run_job`` is gone (or never existed).

    ``heard_until``: a moment up to which the judge could not have heard a
    heartbeat (the database was unreachable or restarting); silence before
    it is not the worker's.
    """
    if not run_job.claimed_by:
        return True
    now = now or timezone.now()
    last_heard = run_job.heartbeat_at and max(run_job.heartbeat_at, heard_until or run_job.heartbeat_at)
    if last_heard and now - last_heard > timedelta(seconds=settings.RODAN_HEARTBEAT_TIMEOUT):
        return True
    host, _, pid = run_job.claimed_by.rpartition(":")
    if host == HOST and pid.isdigit():
        return int(pid) == os.getpid() or not _pid_alive(int(pid))
    return False


def settings_for_job(job_settings, schema):
    """A copy of the RunJob's settings with every enum property replaced by its index (Rodan's rule)."""
    arguments = dict(job_settings)
    for key, prop in ((schema or {}).get("properties") or {}).items():
        if isinstance(prop, dict) and "enum" in prop and arguments.get(key) in prop["enum"]:
            arguments[key] = prop["enum"].index(arguments[key])
    return arguments


def _entry(resource, mimetype, for_interface):
    entry = {
        "resource_path": storage.absolute_path(resource),
        "resource_type": mimetype,
        "resource_name": resource.name,
    }
    if for_interface:
        diva = f"projects/{resource.project_id.hex}/resources/{resource.uuid.hex}/diva"
        entry.update(
            resource_url=file_access.link(resource.resource_file),
            diva_object_data=file_access.link(f"{diva}/measurement.json"),
            diva_iip_server=os.environ.get("IIPSRV_URL", ""),
            diva_image_dir=diva,
        )
    return entry


def build_inputs(run_job, for_interface=False):
    """The ``inputs`` argument: {port type name: [entry or list of entries]}."""
    inputs = {}
    for bound in run_job.inputs.select_related("resource__resource_type", "resource_list").order_by("created"):
        if bound.resource_list_id:
            resource_list = bound.resource_list
            mimetype = resource_list.resource_type.mimetype
            value = [_entry(r, mimetype, for_interface) for r in resource_list.ordered_resources()]
        else:
            value = _entry(bound.resource, bound.resource.resource_type.mimetype, for_interface)
        inputs.setdefault(bound.input_port_type_name, []).append(value)
    return inputs


def build_outputs(run_job, workdir):
    """The ``outputs`` argument, and (entry, Output) pairs to install afterwards."""
    outputs, targets = {}, []
    for output in run_job.outputs.select_related("resource__resource_type", "resource_list__declared_type").order_by(
        "created"
    ):
        if output.resource_list_id:
            folder = workdir / uuid.uuid4().hex
            folder.mkdir()
            entry = {"resource_folder": f"{folder}/", "resource_type": output.resource_list.declared_type.mimetype}
        else:
            entry = {"resource_path": str(workdir / uuid.uuid4().hex), "resource_type": output.resource.resource_type.mimetype}
        outputs.setdefault(output.output_port_type_name, []).append(entry)
        targets.append((entry, output))
    return outputs, targets


class Heartbeat(threading.Thread):
    """Stamps the RunJob while the job runs; stops the job when the row is no longer ours."""

    def __init__(self, run_job_id, token, owner):
        super().__init__(name=f"heartbeat-{run_job_id}", daemon=True)
        self.run_job_id, self.token, self.owner = run_job_id, token, owner
        self.job_thread_id = threading.get_ident()
        self.lost = False
        self._stopping = threading.Event()

    def run(self):
        try:
            while not self._stopping.wait(settings.RODAN_HEARTBEAT_INTERVAL):
                try:
                    still_ours = lifecycle.beat(self.run_job_id, self.token, self.owner)
                except database.OUTAGE_ERRORS:  # beat again once the database is back; the job goes on
                    connection.close()
                    continue
                if not still_ours and not self._stopping.is_set():
                    self.lost = True
                    ctypes.pythonapi.PyThreadState_SetAsyncExc(
                        ctypes.c_ulong(self.job_thread_id), ctypes.py_object(JobCancelled)
                    )
                    return
        except Exception:
            logger.exception("heartbeat of RunJob %s failed", self.run_job_id)
        finally:
            connection.close()

    def stop(self):
        self._stopping.set()
        self.join()
        if self.lost:  # an exception may still be pending for the job thread: drop it
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.job_thread_id), None)


def _locked(run_job_id):
    return RunJob.objects.select_for_update(of=("self",)).select_related("workflow_run", "job").filter(pk=run_job_id).first()


def claim(run_job_id, token):
    """Take the RunJob for this process, or return None when the message must be dropped."""
    owner = worker_identity()
    with transaction.atomic():
        run_job = _locked(run_job_id)
        if run_job is None or run_job.dispatch_token != token or run_job.status != RunJobStatus.PROCESSING:
            logger.info("dropping stale message for RunJob %s", run_job_id)
            return None
        now = timezone.now()
        if not claim_is_dead(run_job, now):
            logger.info("dropping duplicate message: RunJob %s runs on %s", run_job_id, run_job.claimed_by)
            return None
        if run_job.attempts >= settings.RODAN_MAX_ATTEMPTS:
            lifecycle.fail(
                run_job,
                f"The job was started {run_job.attempts} times and its worker process died each time "
                f"(last on {run_job.worker_host or 'an unknown host'}); giving up.",
                "Worker processes stop without finishing when they run out of memory, are killed, "
                "or exceed the hard time limit. Retry the run after fixing the cause.",
            )
            return None
        if run_job.claimed_by:
            logger.warning("taking over RunJob %s from dead worker %s", run_job_id, run_job.claimed_by)
        return lifecycle.claim(run_job, owner, HOST, now)


def _missing_outputs(targets):
    missing = []
    for entry, output in targets:
        if "resource_folder" in entry:
            if not any(Path(entry["resource_folder"]).iterdir()):
                missing.append(f"{output.output_port_type_name} (the job wrote no file into its folder)")
        elif not os.path.isfile(entry["resource_path"]):
            missing.append(f"{output.output_port_type_name} (the job did not write the file)")
    return missing


def _install(resource, source, moved):
    storage.install_file(resource, source)
    moved.append((source, storage.absolute_path(resource)))


def _install_outputs(targets, moved):
    """Move each output file into its resource's place, noting (source, target) in ``moved`` to undo on failure."""
    for entry, output in targets:
        if "resource_folder" not in entry:
            resource = output.resource
            _install(resource, entry["resource_path"], moved)
            resource.save(update_fields=["resource_file", "updated"])
            tiles.after_write(resource)
            continue
        resource_list = output.resource_list
        resource_list.memberships.all().delete()
        for order, path in enumerate(sorted(Path(entry["resource_folder"]).iterdir())):
            member = Resource(
                name=path.stem,
                description=f"Order #{order} in ResourceList {resource_list.name}",
                project_id=resource_list.project_id,
                resource_type=resource_list.declared_type,
                origin=output,
            )
            _install(member, path, moved)
            member.save()
            tiles.after_write(member)
            ResourceListMembership.objects.create(resource_list=resource_list, resource=member, order=order)


def _still_ours(run_job_id, run_id, token, owner):
    # The run first, then the RunJob: the order cancel and redo lock them in (no deadlock).
    list(WorkflowRun.objects.select_for_update().filter(pk=run_id).values_list("pk"))
    run_job = _locked(run_job_id)
    if run_job and run_job.dispatch_token == token and run_job.claimed_by == owner:
        if run_job.status == RunJobStatus.PROCESSING:
            return run_job
    logger.info("RunJob %s was cancelled or taken over while running; its results are discarded", run_job_id)
    return None


def _on_main_thread():
    return threading.current_thread() is threading.main_thread()


def _soft_limit_expired(signum, frame):
    raise SoftTimeLimitExceeded()


@contextlib.contextmanager
def _soft_time_limit(seconds):
    """Raise SoftTimeLimitExceeded in the job after ``seconds`` (signals reach the main thread only)."""
    if not _on_main_thread():
        yield
        return
    previous = signal.signal(signal.SIGALRM, _soft_limit_expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _call_job(job, inputs, arguments, outputs, run_job, token):
    heartbeat = Heartbeat(run_job.pk, token, run_job.claimed_by)
    heartbeat.start()
    try:
        with _soft_time_limit(job_time_limits(run_job)[0]):
            return job.run_my_task(inputs, arguments, outputs)
    finally:
        heartbeat.stop()


class _Chain:
    """Which ready RunJob the running message's task may keep for itself (see the module's docstring)."""

    def __init__(self):
        self.started = time.monotonic()
        request = current_task.request if current_task else None
        self.queue = ((request and request.delivery_info) or {}).get("routing_key")
        self.hard, self.soft = (request and request.timelimit) or (None, None)

    def accepts(self, run_job):
        elapsed = time.monotonic() - self.started
        if not (self.queue and self.hard and self.soft and _on_main_thread()) or elapsed >= CHAIN_BUDGET:
            return False
        soft, hard = job_time_limits(run_job)
        hard_left = self.hard - elapsed
        return queue_of(run_job) == self.queue and soft + 1 <= self.soft - elapsed and hard <= hard_left <= hard + CHAIN_BUDGET


def execute(run_job_id, token):
    """Run the message's RunJob, then the successors it keeps, each to its end state.

    Returns what happened to each ("finished", "failed", "dropped", ...), comma-separated.
    """
    close_old_connections()
    run_job = database.retrying(claim, run_job_id, token)
    if run_job is None:
        return "dropped"
    keeper = lifecycle.Keeper(worker_identity(), HOST, _Chain().accepts)
    outcomes = []
    while run_job is not None:
        outcome, run_job = _run_in_workdir(run_job, keeper)
        outcomes.append(outcome)
    return ", ".join(outcomes)


def _run_in_workdir(run_job, keeper):
    """Run one claimed RunJob; (what happened, the successor kept for this process or None)."""
    token = run_job.dispatch_token
    try:
        workdir = storage.runjob_workdir(run_job, token)
    except OSError as exc:
        if not storage.disk_full(exc):
            raise
        return _finish_failed(run_job, token, run_job.claimed_by, *_disk_full_error(exc)), None
    try:
        while True:
            try:
                return _run(run_job, token, run_job.claimed_by, workdir, keeper)
            except database.OUTAGE_ERRORS:
                # Reading the job's inputs lost the database: start again once it is back (the claim still holds).
                logger.warning("RunJob %s: the database went away while preparing it; waiting", run_job.pk)
                database.wait_until_reachable(database.outage_deadline())
    finally:
        storage.remove_workdir(workdir)


def _disk_full_error(exc):
    """A full disk fails the RunJob with a sentence that says so; the reaper resumes it once space is freed."""
    return storage.DISK_FULL_SUMMARY, f"{exc} (files are stored under {settings.MEDIA_ROOT})"


def _run(run_job, token, owner, workdir, keeper):
    try:
        cls = get_registry().job_class(run_job.job_name)
    except LookupError as exc:
        return _finish_failed(run_job, token, owner, str(exc), ""), None
    job = cls()
    try:
        inputs = build_inputs(run_job)
        outputs, targets = build_outputs(run_job, workdir)
        arguments = settings_for_job(run_job.job_settings, cls.settings)
        result = _call_job(job, inputs, arguments, outputs, run_job, token)
    except JobCancelled:
        logger.info("RunJob %s stopped: it was cancelled or taken over", run_job.pk)
        return "cancelled", None
    except SoftTimeLimitExceeded:
        soft, _ = job_time_limits(run_job)
        summary = f"The job exceeded its time limit of {soft} seconds and was stopped."
        return _finish_failed(run_job, token, owner, summary, ""), None
    except Exception as exc:
        if database.is_outage(exc):
            raise
        summary, details = _disk_full_error(exc) if storage.disk_full(exc) else error_information(job, exc)
        return _finish_failed(run_job, token, owner, summary, details), None

    if isinstance(result, WAITING_FOR_INPUT) or result is WAITING_FOR_INPUT:
        update = result.settings_update if isinstance(result, WAITING_FOR_INPUT) else {}
        return database.retrying(_wait_for_input, run_job, token, owner, update), None
    if job.error_details:
        summary = f"{cls.name} reported an error"
        return _finish_failed(run_job, token, owner, summary, str(job.error_details)), None
    missing = _missing_outputs(targets)
    if missing:
        return _finish_failed(run_job, token, owner, "Missing outputs: " + "; ".join(missing), ""), None
    try:
        return database.retrying(_finish, run_job, token, owner, targets, keeper)
    except OSError as exc:
        if not storage.disk_full(exc):
            raise
        return _finish_failed(run_job, token, owner, *_disk_full_error(exc)), None


def _wait_for_input(run_job, token, owner, update):
    with transaction.atomic():
        locked = _still_ours(run_job.pk, run_job.workflow_run_id, token, owner)
        if locked is None:
            return "cancelled"
        lifecycle.wait_for_input(locked, update)
    return "waiting for input"


def _finish(run_job, token, owner, targets, keeper):
    """Install the outputs and mark the RunJob finished, all or nothing: files go back if the transaction fails."""
    moved = []
    try:
        with transaction.atomic():
            locked = _still_ours(run_job.pk, run_job.workflow_run_id, token, owner)
            if locked is None:
                return "cancelled", None
            _install_outputs(targets, moved)
            kept = lifecycle.finish(locked, keeper)
    except BaseException:
        for source, target in reversed(moved):
            with contextlib.suppress(OSError):
                os.replace(target, source)
        raise
    return "finished", kept


def _finish_failed(run_job, token, owner, summary, details):
    outcome = database.retrying(_fail, run_job, token, owner, summary, details)
    if outcome == "failed":
        logger.warning("RunJob %s failed: %s", run_job.pk, summary)
    return outcome


def _fail(run_job, token, owner, summary, details):
    with transaction.atomic():
        locked = _still_ours(run_job.pk, run_job.workflow_run_id, token, owner)
        if locked is None:
            return "cancelled"
        lifecycle.fail(locked, summary, details)
    return "failed"
