"""Run expansion and resource assignments (rodan-compat.md §5.2, §3, §4.3).

No worker runs: the RunJobs of a created run stay scheduled (the first jobs
may be claimed by the scheduler), which is all these tests inspect.
"""

from collections import defaultdict

import pytest
from builders import make_project, upload

from rodan.engine.expansion import AssignmentError, check_assignments, create_run
from rodan.engine.validation import validate_workflow
from rodan.models import (
    Input,
    Job,
    Output,
    Resource,
    ResourceList,
    ResourceListMembership,
    ResourceType,
    RunJob,
    WorkflowRun,
)
from rodan.models.status import RunJobStatus, RunStatus
from rodan.resource_types import MIMETYPES

STEP = "Test - Text step"
JOIN = "Test - Join texts"
LABELER = "Labeler"
DISTRIBUTOR = "Resource Distributor"
GREY = "To greyscale PNG"
ONEBIT = "To one-bit PNG"


def pages(wfb, count, prefix="page"):
    return [wfb.upload(f"{prefix}{i}", name=f"{prefix}{i}") for i in range(count)]


def make_list(project, resources, name="list", declared=None):
    resource_list = ResourceList.objects.create(name=name, project=project, declared_type=declared)
    for order, resource in enumerate(resources):
        ResourceListMembership.objects.create(resource_list=resource_list, resource=resource, order=order)
    return resource_list


def run_jobs_of(run, wfj):
    return list(RunJob.objects.filter(workflow_run=run, workflow_job=wfj))


def only_input(run_job):
    return Input.objects.get(run_job=run_job)


def only_output(run_job):
    return Output.objects.get(run_job=run_job)


def labeler_with_two_ports(wfb):
    labeler = wfb.job(LABELER, {"Label": "x"}, inputs=["Resource", "Resource"])
    return labeler, list(labeler.input_ports.order_by("uuid"))


# -- batches -------------------------------------------------------------------


def test_batch_over_a_three_job_chain(wfb):
    a, b, c = wfb.chain(3)
    validate_workflow(wfb.workflow)
    items = pages(wfb, 4)
    run = create_run(wfb.workflow, {a.input_ports.get(): items})

    assert run.status == RunStatus.PROCESSING and run.project == wfb.project and run.name == wfb.workflow.name
    assert run.origin_resources == [p.uuid.hex for p in items]
    run_jobs = list(RunJob.objects.filter(workflow_run=run))
    assert len(run_jobs) == 12
    by_chain = defaultdict(dict)
    for run_job in run_jobs:
        by_chain[run_job.resource_uuid][run_job.workflow_job_id] = run_job
    assert set(by_chain) == {p.uuid.hex for p in items}
    for page in items:
        chain = by_chain[page.uuid.hex]
        assert set(chain) == {a.pk, b.pk, c.pk}
        first, second, third = chain[a.pk], chain[b.pk], chain[c.pk]
        assert only_input(first).resource == page
        # each job reads what the same chain's upstream job writes
        assert only_input(second).resource == only_output(first).resource
        assert only_input(third).resource == only_output(second).resource
        for run_job, wfj in ((first, a), (second, b), (third, c)):
            assert run_job.workflow_job_uuid == wfj.uuid.hex
            assert run_job.job_name == STEP and run_job.job == wfj.job
            assert run_job.job_settings == wfj.job_settings
            placeholder = only_output(run_job).resource
            assert placeholder.name == page.name  # named after the chain's page
            assert placeholder.resource_file == "" and placeholder.processing_status is None
            assert placeholder.resource_type.mimetype == "text/plain" and placeholder.project == wfb.project
            assert only_output(run_job).output_port == wfj.output_ports.get()
            assert only_input(run_job).input_port == wfj.input_ports.get()
            assert only_input(run_job).input_port_type_name == "Text input"
            assert only_output(run_job).output_port_type_name == "Text output"
        # downstream jobs wait for files that do not exist yet
        assert second.status == third.status == RunJobStatus.SCHEDULED
    outputs = Resource.objects.filter(origin__run_job__workflow_run=run)
    assert outputs.count() == 12 and len({o.pk for o in outputs}) == 12


def test_single_item_is_not_a_batch(wfb):
    a, b, c = wfb.chain(3)
    validate_workflow(wfb.workflow)
    run = create_run(wfb.workflow, {a.input_ports.get(): pages(wfb, 1)})
    run_jobs = list(RunJob.objects.filter(workflow_run=run))
    assert len(run_jobs) == 3
    assert {rj.resource_uuid for rj in run_jobs} == {None}
    for wfj in (a, b, c):
        (run_job,) = run_jobs_of(run, wfj)
        assert only_output(run_job).resource.name == "Test - Text step - Text output"
    (second,) = run_jobs_of(run, b)
    (first,) = run_jobs_of(run, a)
    assert only_input(second).resource == only_output(first).resource


def test_two_outputs_of_one_port_type_each_get_a_placeholder(wfb):
    a = wfb.job(STEP, outputs=["Text output", "Text output"])
    validate_workflow(wfb.workflow)
    run = create_run(wfb.workflow, {a.input_ports.get(): pages(wfb, 2)})
    for run_job in RunJob.objects.filter(workflow_run=run):
        outputs = list(Output.objects.filter(run_job=run_job))
        assert len(outputs) == 2 and outputs[0].resource != outputs[1].resource
        assert {o.output_port for o in outputs} == set(a.output_ports.all())


def test_single_item_port_is_shared_across_chains(wfb):
    step = wfb.job(STEP)
    labeler, (from_step, open_port) = labeler_with_two_ports(wfb)
    wfb.connect(step, from_step)
    validate_workflow(wfb.workflow)
    items = pages(wfb, 3)
    shared = wfb.upload("shared", name="shared")
    run = create_run(wfb.workflow, {step.input_ports.get(): items, open_port: [shared]})

    labelers = run_jobs_of(run, labeler)
    assert len(labelers) == 3 and len(run_jobs_of(run, step)) == 3
    assert {rj.resource_uuid for rj in labelers} == {p.uuid.hex for p in items}
    for run_job in labelers:
        assert Input.objects.get(run_job=run_job, input_port=open_port).resource == shared
        (upstream,) = RunJob.objects.filter(workflow_run=run, workflow_job=step, resource_uuid=run_job.resource_uuid)
        assert Input.objects.get(run_job=run_job, input_port=from_step).resource == only_output(upstream).resource
    assert sorted(run.origin_resources) == sorted([p.uuid.hex for p in items] + [shared.uuid.hex])


def test_job_not_downstream_of_a_batch_port_runs_once(wfb):
    single = wfb.job(STEP, {"Tag": "single"})
    batch = wfb.job(STEP, {"Tag": "batch"})
    labeler, (left, right) = labeler_with_two_ports(wfb)
    wfb.connect(single, left)
    wfb.connect(batch, right)
    validate_workflow(wfb.workflow)
    items = pages(wfb, 3)
    one = wfb.upload("one", name="one")
    run = create_run(wfb.workflow, {single.input_ports.get(): [one], batch.input_ports.get(): items})

    (once,) = run_jobs_of(run, single)
    assert once.resource_uuid is None
    shared_output = only_output(once).resource
    assert shared_output.name == "Test - Text step - Text output"
    batch_jobs = run_jobs_of(run, batch)
    assert sorted(rj.resource_uuid for rj in batch_jobs) == sorted(p.uuid.hex for p in items)
    assert {only_output(rj).resource.name for rj in batch_jobs} == {"page0", "page1", "page2"}
    labelers = run_jobs_of(run, labeler)
    assert len(labelers) == 3
    for run_job in labelers:
        assert Input.objects.get(run_job=run_job, input_port=left).resource == shared_output
        (upstream,) = [rj for rj in batch_jobs if rj.resource_uuid == run_job.resource_uuid]
        assert Input.objects.get(run_job=run_job, input_port=right).resource == only_output(upstream).resource
    assert RunJob.objects.filter(workflow_run=run).count() == 7


def test_two_batch_ports_pair_items_by_position(wfb):
    labeler, (left, right) = labeler_with_two_ports(wfb)
    validate_workflow(wfb.workflow)
    lefts, rights = pages(wfb, 3, "left"), pages(wfb, 3, "right")
    run = create_run(wfb.workflow, {left: lefts, right: rights})
    run_jobs = run_jobs_of(run, labeler)
    assert len(run_jobs) == 3
    pairs = {
        (Input.objects.get(run_job=rj, input_port=left).resource.name, Input.objects.get(run_job=rj, input_port=right).resource.name)
        for rj in run_jobs
    }
    assert pairs == {("left0", "right0"), ("left1", "right1"), ("left2", "right2")}


def test_branching_batch_keeps_each_branch_in_its_chain(wfb):
    source, left, right = wfb.job(STEP), wfb.job(STEP), wfb.job(STEP)
    out = source.output_ports.get()
    wfb.connect(out, left.input_ports.get())
    wfb.connect(out, right.input_ports.get())
    validate_workflow(wfb.workflow)
    run = create_run(wfb.workflow, {source.input_ports.get(): pages(wfb, 2)})
    for upstream in run_jobs_of(run, source):
        produced = only_output(upstream).resource
        consumers = RunJob.objects.filter(workflow_run=run, inputs__resource=produced)
        assert {rj.workflow_job_id for rj in consumers} == {left.pk, right.pk}
        assert {rj.resource_uuid for rj in consumers} == {upstream.resource_uuid}


# -- output resource types -----------------------------------------------------


def accepted(job_name, port_name):
    port_type = Job.objects.get(name=job_name).input_port_types.get(name=port_name)
    return set(port_type.resource_types.values_list("mimetype", flat=True))


def distributor_into(wfb, target_name):
    distributor = wfb.job(DISTRIBUTOR)
    if target_name:
        wfb.connect(distributor, wfb.job(target_name))
    validate_workflow(wfb.workflow)
    return distributor


def distributor_output_type(wfb, distributor, mimetype):
    item = wfb.upload("x", name="x", mimetype=mimetype)
    run = create_run(wfb.workflow, {distributor.input_ports.get(): [item]})
    (run_job,) = run_jobs_of(run, distributor)
    return only_output(run_job).resource.resource_type.mimetype


def test_output_type_prefers_the_input_type_among_the_narrowed_types(wfb):
    distributor = distributor_into(wfb, ONEBIT)
    assert distributor_output_type(wfb, distributor, "image/rgb+png") == "image/rgb+png"


def test_output_type_narrowed_to_what_the_consumer_accepts(wfb):
    # A JSON input cannot be preferred: the first registered type the one-bit job reads wins.
    distributor = distributor_into(wfb, ONEBIT)
    expected = [m for m in MIMETYPES if m in accepted(ONEBIT, "Image")][0]
    assert distributor_output_type(wfb, distributor, "application/json") == expected
    assert expected.startswith("image/")


def test_end_output_takes_the_input_type(wfb):
    distributor = distributor_into(wfb, None)
    assert distributor_output_type(wfb, distributor, "application/mei+xml") == "application/mei+xml"


def test_output_type_narrowed_to_text_by_a_text_consumer(wfb):
    distributor = distributor_into(wfb, STEP)
    assert distributor_output_type(wfb, distributor, "text/plain") == "text/plain"


def test_fixed_output_type(wfb):
    grey = wfb.job(GREY)
    validate_workflow(wfb.workflow)
    run = create_run(wfb.workflow, {grey.input_ports.get(): [wfb.upload("x", mimetype="image/rgb+png")]})
    (run_job,) = run_jobs_of(run, grey)
    assert only_output(run_job).resource.resource_type.mimetype == "image/greyscale+png"


# -- list ports ------------------------------------------------------------------


def test_list_port_takes_a_resource_list(wfb):
    join = wfb.job(JOIN)
    step = wfb.job(STEP)
    wfb.connect(join, step)
    validate_workflow(wfb.workflow)
    members = pages(wfb, 3)
    texts = make_list(wfb.project, members, name="texts")
    run = create_run(wfb.workflow, {join.input_ports.get(): [texts]})

    (join_run,) = run_jobs_of(run, join)
    bound = only_input(join_run)
    assert bound.resource_list == texts and bound.resource is None
    assert join_run.resource_uuid is None
    joined = only_output(join_run).resource
    assert joined.name == "Test - Join texts - Joined" and joined.resource_type.mimetype == "text/plain"
    (step_run,) = run_jobs_of(run, step)
    assert only_input(step_run).resource == joined
    assert run.origin_resources is None  # only Resources are recorded, not lists


def test_batch_of_resource_lists(wfb):
    join = wfb.job(JOIN)
    validate_workflow(wfb.workflow)
    first = make_list(wfb.project, pages(wfb, 2, "a"), name="first list")
    second = make_list(wfb.project, pages(wfb, 3, "b"), name="second list")
    run = create_run(wfb.workflow, {join.input_ports.get(): [first, second]})
    run_jobs = run_jobs_of(run, join)
    assert sorted(rj.resource_uuid for rj in run_jobs) == sorted([first.uuid.hex, second.uuid.hex])
    for run_job in run_jobs:
        resource_list = only_input(run_job).resource_list
        assert run_job.resource_uuid == resource_list.uuid.hex
        assert only_output(run_job).resource.name == resource_list.name


def test_list_type_comes_from_its_first_member_or_its_own(wfb):
    join = wfb.job(JOIN)
    validate_workflow(wfb.workflow)
    port = join.input_ports.get()
    text = ResourceType.objects.get(mimetype="text/plain")
    mei = ResourceType.objects.get(mimetype="application/mei+xml")
    check_assignments(wfb.workflow, {port: [make_list(wfb.project, pages(wfb, 1))]})
    check_assignments(wfb.workflow, {port: [make_list(wfb.project, pages(wfb, 1), declared=text)]})
    with pytest.raises(AssignmentError) as caught:
        check_assignments(wfb.workflow, {port: [make_list(wfb.project, pages(wfb, 1), declared=mei)]})
    assert caught.value.detail == {str(port): {0: ["The resource type application/mei+xml does not match the InputPort"]}}
    mei_member = wfb.upload("m", mimetype="application/mei+xml")
    with pytest.raises(AssignmentError):
        check_assignments(wfb.workflow, {port: [make_list(wfb.project, [mei_member] + pages(wfb, 1))]})


# -- assignment errors -----------------------------------------------------------


def assignment_error(workflow, assignments, **kwargs):
    with pytest.raises(AssignmentError) as caught:
        create_run(workflow, assignments, **kwargs)
    assert not WorkflowRun.objects.filter(workflow=workflow).exists()  # nothing was created
    return caught.value.detail


@pytest.fixture
def chain2(wfb):
    a, b = wfb.chain(2)
    validate_workflow(wfb.workflow)
    return wfb, a.input_ports.get(), b.input_ports.get()


@pytest.mark.parametrize("value", [None, [], "port", 3])
def test_assignments_must_be_an_object(chain2, value):
    wfb, _, _ = chain2
    assert assignment_error(wfb.workflow, value) == ["This field must be a JSON object"]


def test_connected_port_cannot_be_assigned(chain2):
    wfb, open_port, connected = chain2
    item = wfb.upload()
    detail = assignment_error(wfb.workflow, {open_port: [item], connected: [item]})
    assert detail == {str(connected): ["Assigned InputPort must be unsatisfied"]}


def test_port_of_another_workflow_cannot_be_assigned(chain2, new_wfb):
    wfb, open_port, _ = chain2
    other = new_wfb(wfb.project)
    foreign = other.job(STEP).input_ports.get()
    detail = assignment_error(wfb.workflow, {open_port: [wfb.upload()], foreign: [wfb.upload()]})
    assert detail == {str(foreign): ["Assigned InputPort must be unsatisfied"]}


def test_value_must_be_a_list(chain2):
    wfb, open_port, _ = chain2
    detail = assignment_error(wfb.workflow, {open_port: wfb.upload()})
    assert detail == {str(open_port): ["A list of resources or resource lists is expected"]}


def test_empty_collection(chain2):
    wfb, open_port, _ = chain2
    assert assignment_error(wfb.workflow, {open_port: []}) == ["It is not allowed to assign an empty collection"]


def test_uneven_lengths(wfb):
    labeler, (left, right) = labeler_with_two_ports(wfb)
    validate_workflow(wfb.workflow)
    key = lambda port: f"url-{port.pk}"  # noqa: E731
    detail = assignment_error(wfb.workflow, {left: pages(wfb, 2), right: pages(wfb, 3)}, key=key)
    assert detail == {key(right): [f"The number of assigned resources is not even with that of {key(left)}"]}


def test_one_against_many_is_even(wfb):
    labeler, (left, right) = labeler_with_two_ports(wfb)
    validate_workflow(wfb.workflow)
    check_assignments(wfb.workflow, {left: pages(wfb, 1), right: pages(wfb, 3)})


def test_wrong_resource_type(chain2):
    wfb, open_port, _ = chain2
    image = wfb.upload("x", mimetype="image/png")
    detail = assignment_error(wfb.workflow, {open_port: [wfb.upload(), image]})
    assert detail == {str(open_port): {1: ["The resource type image/png does not match the InputPort"]}}


def test_resource_file_not_ready(chain2):
    wfb, open_port, _ = chain2
    text = ResourceType.objects.get(mimetype="text/plain")
    pending = Resource.objects.create(name="pending", project=wfb.project, resource_type=text)
    detail = assignment_error(wfb.workflow, {open_port: [wfb.upload(), wfb.upload(), pending]})
    assert detail == {str(open_port): {2: ["The resource file is not ready"]}}


def test_resource_list_not_ready(wfb):
    join = wfb.job(JOIN)
    validate_workflow(wfb.workflow)
    port = join.input_ports.get()
    text = ResourceType.objects.get(mimetype="text/plain")
    pending = Resource.objects.create(name="pending", project=wfb.project, resource_type=text)
    empty = make_list(wfb.project, [], declared=text)
    half_ready = make_list(wfb.project, [wfb.upload(), pending])
    for bad in (empty, half_ready):
        assert assignment_error(wfb.workflow, {port: [bad]}) == {str(port): {0: ["The resource file is not ready"]}}


def test_resource_of_another_project(chain2):
    wfb, open_port, _ = chain2
    stranger = upload(make_project(), "elsewhere")
    detail = assignment_error(wfb.workflow, {open_port: [stranger]})
    assert detail == {str(open_port): {0: ["The resource is not in the workflow's project"]}}


def test_list_port_refuses_a_resource_and_plain_port_refuses_a_list(wfb, new_wfb):
    join = wfb.job(JOIN)
    validate_workflow(wfb.workflow)
    detail = assignment_error(wfb.workflow, {join.input_ports.get(): [wfb.upload()]})
    assert detail == {str(join.input_ports.get()): {0: ["This InputPort takes resource lists"]}}

    other = new_wfb(wfb.project)
    step = other.job(STEP)
    validate_workflow(other.workflow)
    as_list = make_list(wfb.project, [wfb.upload()])
    detail = assignment_error(other.workflow, {step.input_ports.get(): [as_list]})
    assert detail == {str(step.input_ports.get()): {0: ["This InputPort takes resources"]}}


def test_unsatisfied_ports(wfb):
    labeler, (left, right) = labeler_with_two_ports(wfb)
    validate_workflow(wfb.workflow)
    key = lambda port: f"url-{port.pk}"  # noqa: E731
    detail = assignment_error(wfb.workflow, {left: [wfb.upload()]}, key=key)
    assert detail == [f"There are still unsatisfied InputPorts: {key(right)}"]
    detail = assignment_error(wfb.workflow, {}, key=key)
    assert len(detail) == 1 and key(left) in detail[0] and key(right) in detail[0]


def test_invalid_workflow_is_refused(wfb):
    a, _ = wfb.chain(2)
    assert not wfb.workflow.valid
    with pytest.raises(ValueError, match="Workflow must be valid before you can run it."):
        create_run(wfb.workflow, {a.input_ports.get(): [wfb.upload()]})
    assert not WorkflowRun.objects.filter(workflow=wfb.workflow).exists()
    assert not RunJob.objects.filter(workflow_job__workflow=wfb.workflow).exists()
