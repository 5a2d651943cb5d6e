"""``rodan run``: an exported workflow over local files, through the engine.

The pages become Resources of a project owned by a command-line user, the
workflow is imported and validated, the run goes through the same scheduler,
messages and task as any other (run by Celery workers, or by ``rodan run``
itself: ``rodan.engine.local``), and the end-point outputs are copied to the
output folder: ``<OUTDIR>/<page>/<job> - <port>.<ext>`` for per-page jobs,
``<OUTDIR>/<job> - <port>.<ext>`` for jobs that ran once for all pages.
"""

import shutil
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction

from rodan import storage
from rodan.engine.expansion import AssignmentError, create_run
from rodan.engine.scheduler import has_pending_work
from rodan.engine.serialization import SerializationError, import_workflow
from rodan.engine.validation import WorkflowInvalid, validate_workflow
from rodan.models import InputPort, Project, Resource, RunJob
from rodan.models.status import RunJobStatus, RunStatus
from rodan.naming import entry_name, file_name, step_name, unique_name
from rodan.results import end_point_outputs, ready_files
from rodan.uploads import UploadError, create_resource_from_path

CLI_USER = "rodan-cli"
TERMINAL_RUN_STATUSES = (RunStatus.FINISHED, RunStatus.CANCELLED)


class BatchError(Exception):
    """A reason the batch cannot run or did not finish, in one line."""


@transaction.atomic
def prepare(doc, pages, extra_assignments=None, name=None):
    """Import the workflow, upload the pages and return (workflow, {InputPort: [Resource]})."""
    user, _ = get_user_model().objects.get_or_create(username=CLI_USER, defaults={"email": "rodan-cli@localhost"})
    project, _ = Project.objects.get_or_create(name="Command-line runs", creator=user)
    try:
        workflow = import_workflow(project, doc, creator=user, name=name)
    except SerializationError as exc:
        raise BatchError(f"the workflow file is not a usable Rodan workflow: {exc.detail}") from None
    interactive = workflow.workflow_jobs.filter(job__interactive=True).values_list("job__name", flat=True)
    if interactive:
        raise BatchError(
            f"the workflow has interactive jobs ({', '.join(interactive)}); run it through `rodan up` instead"
        )
    try:
        validate_workflow(workflow)
    except WorkflowInvalid as exc:
        raise BatchError(f"the workflow is not valid: {exc.error_code}: {exc.details[0]}") from None
    ports = list(InputPort.objects.filter(workflow_job__workflow=workflow, extern=True).select_related("input_port_type"))
    extra = dict(extra_assignments or {})
    assignments = {}
    for port in ports:
        names = {port.label, port.input_port_type.name}
        chosen = next((files for key, files in extra.items() if key in names), None)
        if chosen is not None:
            assignments[port] = [_upload(project, user, path) for path in chosen]
    left = [port for port in ports if port not in assignments]
    if len(left) > 1:
        labels = ", ".join(f'"{p.input_port_type.name}"' for p in left)
        raise BatchError(f"the workflow has several open input ports ({labels}); give the others with --input PORT=FILE")
    if left:
        assignments[left[0]] = [_upload(project, user, path) for path in pages]
    return workflow, assignments


def _upload(project, user, path):
    path = Path(path)
    if not path.is_file():
        raise BatchError(f"{path}: no such file")
    try:
        return create_resource_from_path(project, path, creator=user)
    except UploadError as exc:
        raise BatchError(str(exc)) from None


def _describe(detail, assignments):
    """Rodan's nested assignment error as one line naming the files: ``folio2: <msg>``."""
    if not isinstance(detail, dict):
        return "; ".join(map(str, detail))
    parts = []
    for port_name, problem in detail.items():
        items = next((items for port, items in assignments.items() if port.input_port_type.name == port_name), [])
        if isinstance(problem, dict):
            parts += [f"{items[index].name}: {msgs[0]}" for index, msgs in problem.items()]
        else:
            parts.append(f"port {port_name}: {problem[0]}")
    return "; ".join(parts)


def start(workflow, assignments):
    try:
        return create_run(workflow, assignments, name=workflow.name, key=lambda port: port.input_port_type.name)
    except AssignmentError as exc:
        raise BatchError(f"the pages do not fit the workflow: {_describe(exc.detail, assignments)}") from None


def progress(run):
    """(finished RunJobs, all RunJobs, run status)."""
    run.refresh_from_db(fields=["status"])
    jobs = RunJob.objects.filter(workflow_run=run)
    return jobs.filter(status=RunJobStatus.FINISHED).count(), jobs.count(), run.status


def failures(run):
    """The run's failed RunJobs, earliest first."""
    return list(RunJob.objects.filter(workflow_run=run, status=RunJobStatus.FAILED).order_by("finished_at"))


def wait(run, on_progress, poll=0.5, tick=None):
    """Block until the run finishes, or has failed and nothing else can still run.

    A failed page does not stop the others (Rodan's rule): the batch goes on
    until every RunJob that can run has. ``tick`` runs on every poll; when it
    returns true (it did some of the work) the next poll follows at once.
    """
    while True:
        done, total, status = progress(run)
        on_progress(done, total)
        if status in TERMINAL_RUN_STATUSES:
            return status
        if status == RunStatus.FAILED and not has_pending_work(run.pk):
            return status
        if tick is None or not tick():
            time.sleep(poll)


def export_outputs(run, outdir):
    """Copy the run's end-point outputs (``rodan.results``) into ``outdir``; return their paths.

    A list's members go into a folder named after the output.
    """
    outdir = Path(outdir)
    outputs = end_point_outputs(run).select_related("run_job", "resource__resource_type", "resource_list")
    chains = {output.run_job.resource_uuid for output in outputs if output.run_job.resource_uuid}
    pages = {r.uuid.hex: r.name for r in Resource.objects.filter(uuid__in=chains)}
    written, taken = [], set()
    for output, resource in ready_files(outputs):
        step = step_name(output.run_job.job_name, output.output_port_type_name)
        parts = [pages[output.run_job.resource_uuid]] if output.run_job.resource_uuid else []
        parts += [file_name(resource, step)] if output.resource_id else [step, file_name(resource)]
        target = outdir / unique_name(entry_name(*parts), taken)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(storage.absolute_path(resource), target)
        written.append(target)
    return written
