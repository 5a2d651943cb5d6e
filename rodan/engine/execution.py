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
"""

import ctypes
import logging
import os
import socket
import threading
import uuid
from datetime import timedelta
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from rodan import storage, tiles
from rodan.engine import lifecycle
from rodan.engine.scheduler import job_time_limits
from rodan.jobs.base import WAITING_FOR_INPUT, JobCancelled, error_information
from rodan.jobs.registry import get_registry
from rodan.models import Resource, ResourceListMembership, RunJob
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


def claim_is_dead(run_job, now=None):
    """Whether the process that claimed ``run_job`` is gone (or never existed)."""
    if not run_job.claimed_by:
        return True
    now = now or timezone.now()
    if run_job.heartbeat_at and now - run_job.heartbeat_at > timedelta(seconds=settings.RODAN_HEARTBEAT_TIMEOUT):
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
            resource_url=f"{settings.MEDIA_URL}{resource.resource_file}",
            diva_object_data=f"{settings.MEDIA_URL}{diva}/measurement.json",
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
                still_ours = lifecycle.beat(self.run_job_id, self.token, self.owner)
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


def _install_outputs(targets):
    for entry, output in targets:
        if "resource_folder" not in entry:
            resource = output.resource
            storage.install_file(resource, entry["resource_path"])
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
            storage.install_file(member, path)
            member.save()
            tiles.after_write(member)
            ResourceListMembership.objects.create(resource_list=resource_list, resource=member, order=order)


def _still_ours(run_job_id, token, owner):
    run_job = _locked(run_job_id)
    if run_job and run_job.dispatch_token == token and run_job.claimed_by == owner:
        if run_job.status == RunJobStatus.PROCESSING:
            return run_job
    logger.info("RunJob %s was cancelled or taken over while running; its results are discarded", run_job_id)
    return None


def _call_job(job, inputs, arguments, outputs, run_job, token):
    heartbeat = Heartbeat(run_job.pk, token, run_job.claimed_by)
    heartbeat.start()
    try:
        return job.run_my_task(inputs, arguments, outputs)
    finally:
        heartbeat.stop()


def execute(run_job_id, token):
    """Run one claimed RunJob to its end state; the return value names what happened."""
    close_old_connections()
    run_job = claim(run_job_id, token)
    if run_job is None:
        return "dropped"
    workdir = storage.runjob_workdir(run_job, token)
    try:
        return _run(run_job, token, run_job.claimed_by, workdir)
    finally:
        storage.remove_workdir(workdir)


def _run(run_job, token, owner, workdir):
    try:
        cls = get_registry().job_class(run_job.job_name)
    except LookupError as exc:
        return _finish_failed(run_job.pk, token, owner, str(exc), "")
    job = cls()
    try:
        inputs = build_inputs(run_job)
        outputs, targets = build_outputs(run_job, workdir)
        arguments = settings_for_job(run_job.job_settings, cls.settings)
        result = _call_job(job, inputs, arguments, outputs, run_job, token)
    except JobCancelled:
        logger.info("RunJob %s stopped: it was cancelled or taken over", run_job.pk)
        return "cancelled"
    except SoftTimeLimitExceeded:
        soft, _ = job_time_limits(run_job)
        return _finish_failed(
            run_job.pk, token, owner, f"The job exceeded its time limit of {soft} seconds and was stopped.", ""
        )
    except Exception as exc:
        summary, details = error_information(job, exc)
        return _finish_failed(run_job.pk, token, owner, summary, details)

    if isinstance(result, WAITING_FOR_INPUT) or result is WAITING_FOR_INPUT:
        update = result.settings_update if isinstance(result, WAITING_FOR_INPUT) else {}
        with transaction.atomic():
            locked = _still_ours(run_job.pk, token, owner)
            if locked is None:
                return "cancelled"
            lifecycle.wait_for_input(locked, update)
        return "waiting for input"
    if job.error_details:
        return _finish_failed(run_job.pk, token, owner, f"{cls.name} reported an error", str(job.error_details))
    missing = _missing_outputs(targets)
    if missing:
        return _finish_failed(run_job.pk, token, owner, "Missing outputs: " + "; ".join(missing), "")
    with transaction.atomic():
        locked = _still_ours(run_job.pk, token, owner)
        if locked is None:
            return "cancelled"
        _install_outputs(targets)
        lifecycle.finish(locked)
    return "finished"


def _finish_failed(run_job_id, token, owner, summary, details):
    with transaction.atomic():
        locked = _still_ours(run_job_id, token, owner)
        if locked is None:
            return "cancelled"
        lifecycle.fail(locked, summary, details)
    logger.warning("RunJob %s failed: %s", run_job_id, summary)
    return "failed"
