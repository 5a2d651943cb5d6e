"""Editing a workflow: which edits invalidate it, groups, and copying jobs between workflows.

Only a validated workflow runs (``rodan.engine.validation``), so an edit that
changes what would run makes it invalid again, as in Rodan: a job, port or
connection added, removed or moved, a job or port type swapped, a job's
settings changed. Names, labels and appearance do not. A group holds jobs
copied from another workflow (or gathered by hand) and keeps their shape:
only their settings may change. The REST API edits workflows through these
functions, so these rules hold whichever route makes the edit.
"""

from django.db import transaction

from rodan.models import Connection, InputPort, OutputPort, Workflow, WorkflowJob, WorkflowJobGroup

GROUPED = "A WorkflowJob in a WorkflowJobGroup can only have its job_settings changed."
ORIGIN_NOT_VALID = "Origin workflow must be valid."
EMPTY_GROUP = "A group needs at least one WorkflowJob."
MIXED_GROUP = "All WorkflowJobs must belong to the same workflow."

#: The fields whose change is structural, per kind of workflow part.
STRUCTURAL_FIELDS = {
    WorkflowJob: ("workflow", "job", "job_settings"),
    InputPort: ("workflow_job", "input_port_type"),
    OutputPort: ("workflow_job", "output_port_type"),
    Connection: ("input_port", "output_port"),
}


class GroupedJobError(ValueError):
    """An edit refused because it would change the shape of a grouped job."""

    def __init__(self):
        super().__init__(GROUPED)


def workflow_of(part):
    """The workflow a WorkflowJob, port or Connection belongs to."""
    if isinstance(part, WorkflowJob):
        return part.workflow
    if isinstance(part, Connection):
        return part.input_port.workflow_job.workflow
    return part.workflow_job.workflow


def invalidate(*workflows):
    """Mark the workflows (None and repeats ignored) invalid, without touching their other fields."""
    for workflow in {w.pk: w for w in workflows if w is not None}.values():
        Workflow.objects.filter(pk=workflow.pk, valid=True).update(valid=False)


def check_not_grouped(workflow_job, fields=None):
    """Raise GroupedJobError when ``workflow_job`` is grouped and the edit is more than new settings.

    ``fields`` are the job's own fields being changed; None stands for any
    other edit of the job (deleting it, adding, changing or deleting a port).
    """
    if workflow_job is None or not workflow_job.group_id:
        return
    if fields is None or set(fields) - {"job_settings"}:
        raise GroupedJobError()


def add(model, **fields):
    """Create a WorkflowJob, port or Connection and invalidate its workflow."""
    part = model.objects.create(**fields)
    invalidate(workflow_of(part))
    return part


def change(part, **changes):
    """Apply ``changes`` to a WorkflowJob, port or Connection and save it.

    A structural change invalidates the workflow the part was in and the one
    it is in now.
    """
    before = workflow_of(part)
    structural = any(
        key in changes and changes[key] != getattr(part, key) for key in STRUCTURAL_FIELDS[type(part)]
    )
    for key, value in changes.items():
        setattr(part, key, value)
    part.save()
    if structural:
        invalidate(before, workflow_of(part))
    return part


def remove(part):
    """Delete a WorkflowJob, port or Connection and invalidate its workflow.

    Raises GroupedJobError for a grouped job or a port of one.
    """
    if not isinstance(part, Connection):
        check_not_grouped(part if isinstance(part, WorkflowJob) else part.workflow_job)
    invalidate(workflow_of(part))
    part.delete()


def copy_workflow_jobs(workflow_jobs, target):
    """Copy jobs with their ports, and the connections among them, into workflow ``target``."""
    copies, ports = [], {}
    for wfj in workflow_jobs:
        copy = WorkflowJob.objects.create(
            workflow=target, job=wfj.job, job_settings=wfj.job_settings, name=wfj.name, appearance=wfj.appearance
        )
        copies.append(copy)
        for port in wfj.input_ports.all():
            ports[port.pk] = InputPort.objects.create(
                workflow_job=copy, input_port_type=port.input_port_type, label=port.label
            )
        for port in wfj.output_ports.all():
            ports[port.pk] = OutputPort.objects.create(
                workflow_job=copy, output_port_type=port.output_port_type, label=port.label
            )
    inside = Connection.objects.filter(input_port__in=list(ports), output_port__in=list(ports))
    for connection in inside:
        Connection.objects.create(
            input_port=ports[connection.input_port_id],
            output_port=ports[connection.output_port_id],
            offset_x=connection.offset_x,
            offset_y=connection.offset_y,
        )
    invalidate(target)
    return copies


def _jobs_with_ports(workflow_jobs):
    return workflow_jobs.prefetch_related("input_ports", "output_ports")


def check_origin(origin):
    """Raise ValueError unless ``origin`` may be imported as a group: only a valid workflow may."""
    if not origin.valid:
        raise ValueError(ORIGIN_NOT_VALID)


def check_groupable(workflow_jobs, group=None):
    """Raise ValueError unless ``workflow_jobs`` can form ``group`` (or a new one): some, of one workflow."""
    if not workflow_jobs:
        raise ValueError(EMPTY_GROUP)
    workflows = {wfj.workflow_id for wfj in workflow_jobs} | ({group.workflow_id} if group is not None else set())
    if len(workflows) > 1:
        raise ValueError(MIXED_GROUP)


def _set_members(group, workflow_jobs):
    WorkflowJob.objects.filter(pk__in=[wfj.pk for wfj in workflow_jobs]).update(group=group)


@transaction.atomic
def import_as_group(origin, target, **fields):
    """Copy a valid workflow's jobs into ``target`` as one group that remembers its origin."""
    check_origin(origin)
    jobs = copy_workflow_jobs(_jobs_with_ports(origin.workflow_jobs), target)
    fields.setdefault("name", f"From Workflow {origin.name[:80]}")
    group = WorkflowJobGroup.objects.create(workflow=target, origin=origin, **fields)
    _set_members(group, jobs)
    return group


@transaction.atomic
def group_jobs(workflow_jobs, **fields):
    """Gather jobs of one workflow into a new group."""
    check_groupable(workflow_jobs)
    group = WorkflowJobGroup.objects.create(workflow=workflow_jobs[0].workflow, **fields)
    _set_members(group, workflow_jobs)
    return group


@transaction.atomic
def regroup(group, workflow_jobs):
    """Make ``workflow_jobs`` the group's only members; the others leave it."""
    check_groupable(workflow_jobs, group)
    group.workflow_jobs.update(group=None)
    _set_members(group, workflow_jobs)


@transaction.atomic
def workflow_from_group(group, **fields):
    """A new (not yet valid) workflow holding copies of a group's jobs, named after the group by default."""
    fields.setdefault("name", group.name)
    workflow = Workflow.objects.create(**fields)
    copy_workflow_jobs(_jobs_with_ports(group.workflow_jobs), workflow)
    return workflow
