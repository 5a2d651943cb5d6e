"""Workflow editing (rodan.workflows): what invalidates a workflow, groups, copies."""

import pytest

from rodan import workflows
from rodan.engine.validation import validate_workflow
from rodan.models import Connection, InputPort, OutputPort, Workflow, WorkflowJob, WorkflowJobGroup

STEP = "Test - Text step"


def valid_chain(wfb, count=2):
    jobs = wfb.chain(count)
    validate_workflow(wfb.workflow)
    assert is_valid(wfb.workflow)
    return jobs


def is_valid(workflow):
    return Workflow.objects.get(pk=workflow.pk).valid


def test_invalidate_ignores_none_and_repeats_and_keeps_other_fields(wfb):
    valid_chain(wfb)
    Workflow.objects.filter(pk=wfb.workflow.pk).update(name="kept")
    workflows.invalidate(wfb.workflow, None, wfb.workflow)
    workflow = Workflow.objects.get(pk=wfb.workflow.pk)
    assert not workflow.valid and workflow.name == "kept"


@pytest.mark.parametrize("kind", ["job", "inport", "outport", "connection"])
def test_adding_a_part_invalidates(wfb, kind):
    first, second = valid_chain(wfb)
    fields = {
        "job": lambda: {"workflow": wfb.workflow, "job": first.job, "job_settings": {"Tag": "x"}},
        "inport": lambda: {"workflow_job": first, "input_port_type": first.job.input_port_types.get()},
        "outport": lambda: {"workflow_job": first, "output_port_type": first.job.output_port_types.get()},
        "connection": lambda: {
            "output_port": OutputPort.objects.create(
                workflow_job=first, output_port_type=first.job.output_port_types.get()
            ),
            "input_port": InputPort.objects.create(
                workflow_job=second, input_port_type=second.job.input_port_types.get()
            ),
        },
    }[kind]()
    model = {"job": WorkflowJob, "inport": InputPort, "outport": OutputPort, "connection": Connection}[kind]
    part = workflows.add(model, **fields)
    assert part.pk and not is_valid(wfb.workflow)


@pytest.mark.parametrize(
    "change",
    [
        lambda first, second: (first, {"name": "renamed", "appearance": {"x": 3, "y": 4}}),
        lambda first, second: (first, {"job_settings": dict(first.job_settings)}),  # the same settings
        lambda first, second: (first.input_ports.get(), {"label": "relabelled"}),
        lambda first, second: (Connection.objects.get(input_port__workflow_job=second), {"offset_x": 7.0}),
    ],
    ids=["job name", "same settings", "port label", "connection offset"],
)
def test_cosmetic_changes_keep_the_workflow_valid(wfb, change):
    first, second = valid_chain(wfb)
    part, changes = change(first, second)
    workflows.change(part, **changes)
    assert is_valid(wfb.workflow)
    part.refresh_from_db()
    assert all(getattr(part, key) == value for key, value in changes.items())


@pytest.mark.parametrize(
    "change",
    [
        lambda first, second: (first, {"job_settings": {"Tag": "other"}}),
        lambda first, second: (first.input_ports.get(), {"workflow_job": second}),
        lambda first, second: (
            Connection.objects.get(input_port__workflow_job=second),
            {"input_port": InputPort.objects.create(workflow_job=first, input_port_type=first.input_ports.get().input_port_type)},
        ),
    ],
    ids=["settings", "port moved", "connection re-pointed"],
)
def test_structural_changes_invalidate(wfb, change):
    first, second = valid_chain(wfb)
    part, changes = change(first, second)
    Workflow.objects.filter(pk=wfb.workflow.pk).update(valid=True)
    workflows.change(part, **changes)
    assert not is_valid(wfb.workflow)


def test_moving_a_job_invalidates_both_workflows(wfb, new_wfb):
    first, _ = valid_chain(wfb)
    other = new_wfb(wfb.project)
    valid_chain(other, 1)
    workflows.change(first, workflow=other.workflow)
    assert not is_valid(wfb.workflow) and not is_valid(other.workflow)


def test_removing_a_part_invalidates(wfb):
    first, second = valid_chain(wfb)
    workflows.remove(Connection.objects.get(input_port__workflow_job=second))
    assert not is_valid(wfb.workflow)
    Workflow.objects.filter(pk=wfb.workflow.pk).update(valid=True)
    workflows.remove(second)
    assert not is_valid(wfb.workflow) and not WorkflowJob.objects.filter(pk=second.pk).exists()


def test_a_grouped_job_keeps_its_shape(wfb):
    first, second = valid_chain(wfb)
    workflows.group_jobs([first], name="g")
    first.refresh_from_db()
    workflows.check_not_grouped(first, {"job_settings": {"Tag": "new"}})
    workflows.check_not_grouped(second)  # not grouped: anything goes
    workflows.check_not_grouped(None)
    with pytest.raises(workflows.GroupedJobError, match="can only have its job_settings changed"):
        workflows.check_not_grouped(first, {"job_settings": {}, "name": "x"})
    with pytest.raises(workflows.GroupedJobError):
        workflows.check_not_grouped(first)
    for part in (first, first.input_ports.get(), first.output_ports.get()):
        with pytest.raises(workflows.GroupedJobError):
            workflows.remove(part)
        assert type(part).objects.filter(pk=part.pk).exists()
    assert is_valid(wfb.workflow)


def test_copy_takes_ports_and_inner_connections_only(wfb, new_wfb):
    first, second = valid_chain(wfb, 3)[:2]
    target = new_wfb(wfb.project)
    Workflow.objects.filter(pk=target.workflow.pk).update(valid=True)
    copies = workflows.copy_workflow_jobs(WorkflowJob.objects.filter(pk__in=[first.pk, second.pk]), target.workflow)
    assert [c.job_settings for c in copies] == [first.job_settings, second.job_settings]
    assert all(c.workflow_id == target.workflow.pk for c in copies)
    assert InputPort.objects.filter(workflow_job__in=copies).count() == 2
    assert OutputPort.objects.filter(workflow_job__in=copies).count() == 2
    (inner,) = Connection.objects.filter(input_port__workflow_job__workflow=target.workflow)
    assert inner.output_port.workflow_job == copies[0] and inner.input_port.workflow_job == copies[1]
    assert not is_valid(target.workflow)
    assert is_valid(wfb.workflow)  # the source is untouched


def test_import_as_group_needs_a_valid_origin(wfb, new_wfb):
    origin = new_wfb(wfb.project, name="origin")
    origin.chain(2)
    with pytest.raises(ValueError, match="Origin workflow must be valid."):
        workflows.import_as_group(origin.workflow, wfb.workflow)
    assert not WorkflowJob.objects.filter(workflow=wfb.workflow).exists()
    validate_workflow(origin.workflow)
    group = workflows.import_as_group(Workflow.objects.get(pk=origin.workflow.pk), wfb.workflow)
    assert group.name == "From Workflow origin" and group.origin_id == origin.workflow.pk
    assert set(WorkflowJob.objects.filter(workflow=wfb.workflow).values_list("group", flat=True)) == {group.pk}
    assert WorkflowJob.objects.filter(workflow=wfb.workflow).count() == 2


def test_groups_hold_jobs_of_one_workflow(wfb, new_wfb):
    first, second = valid_chain(wfb)
    other = new_wfb(wfb.project).chain(1)[0]
    with pytest.raises(ValueError, match="same workflow"):
        workflows.group_jobs([first, other])
    with pytest.raises(ValueError, match="at least one"):
        workflows.group_jobs([])
    group = workflows.group_jobs([first], name="g")
    assert group.workflow_id == wfb.workflow.pk
    with pytest.raises(ValueError, match="same workflow"):
        workflows.regroup(group, [other])
    workflows.regroup(group, [second])
    assert list(group.workflow_jobs.all()) == [second]
    assert WorkflowJob.objects.get(pk=first.pk).group_id is None
    assert not WorkflowJobGroup.objects.exclude(pk=group.pk).filter(workflow=wfb.workflow).exists()


def test_workflow_from_group(wfb):
    first, second = valid_chain(wfb)
    group = workflows.group_jobs([first, second], name="pair")
    copy = workflows.workflow_from_group(group, project=wfb.project)
    assert copy.name == "pair" and not copy.valid
    assert WorkflowJob.objects.filter(workflow=copy).count() == 2
    assert Connection.objects.filter(input_port__workflow_job__workflow=copy).count() == 1
    named = workflows.workflow_from_group(group, project=wfb.project, name="mine")
    assert named.name == "mine"
