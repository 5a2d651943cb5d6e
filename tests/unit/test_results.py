"""A run's end-point outputs (rodan.results) and the three places that show them.

Runs are built row by row (no expansion, no scheduling), so each test states
exactly which RunJob consumes what.
"""

import zipfile

from builders import make_project, upload

from rodan import batch
from rodan.api.filters import ResourceFilter
from rodan.models import Input, Output, Resource, ResourceList, ResourceListMembership, ResultsPackage, RunJob
from rodan.models import ResourceType, WorkflowRun
from rodan.packages import build_package, package_path
from rodan.results import end_point_outputs, ready_files


class Run:
    """A run whose RunJobs, outputs and inputs are written directly."""

    def __init__(self, project=None):
        self.project = project or make_project()
        self.run = WorkflowRun.objects.create(project=self.project, name="results")

    def job(self, name="Step", page=None):
        return RunJob.objects.create(
            workflow_run=self.run, workflow_job_uuid="0" * 32, job_name=name,
            resource_uuid=page.uuid.hex if page is not None else None,
        )

    def output(self, run_job, text="out", name="out", port="Text output", ready=True):
        if ready:
            resource = upload(self.project, text, name=name)
        else:
            resource = Resource.objects.create(
                name=name, project=self.project, resource_type=ResourceType.objects.get(mimetype="text/plain")
            )
        return Output.objects.create(run_job=run_job, output_port_type_name=port, resource=resource)

    def list_output(self, run_job, members, port="Texts"):
        resource_list = ResourceList.objects.create(name="list", project=self.project)
        for order, member in enumerate(members):
            ResourceListMembership.objects.create(resource_list=resource_list, resource=member, order=order)
        return Output.objects.create(run_job=run_job, output_port_type_name=port, resource_list=resource_list)

    def consume(self, run_job, output):
        return Input.objects.create(
            run_job=run_job, input_port_type_name="in", resource=output.resource, resource_list=output.resource_list
        )


def test_consumed_outputs_are_not_end_points():
    r = Run()
    first, second = r.job("A"), r.job("B")
    middle = r.output(first)
    last = r.output(second)
    r.consume(second, middle)
    assert list(end_point_outputs(r.run)) == [last]


def test_a_labeler_does_not_consume():
    r = Run()
    step = r.job("Step")
    out = r.output(step)
    r.consume(r.job("Labeler"), out)
    assert list(end_point_outputs(r.run)) == [out]


def test_consumed_lists_are_not_end_points_and_list_inputs_hide_nothing_else():
    r = Run()
    producer, joiner = r.job("Produce"), r.job("Join")
    listed = r.list_output(producer, [upload(r.project, "m")])
    r.consume(joiner, listed)  # an Input with a list and no resource
    joined = r.output(joiner)
    kept_list = r.list_output(r.job("Other"), [upload(r.project, "n")])
    assert set(end_point_outputs(r.run)) == {joined, kept_list}


def test_consumption_by_another_run_does_not_count():
    r = Run()
    out = r.output(r.job())
    other = Run(r.project)
    other.consume(other.job(), out)
    assert list(end_point_outputs(r.run)) == [out]


def test_ready_files_skip_unready_and_keep_list_order():
    r = Run()
    step = r.job()
    single = r.output(step, name="single")
    pending = r.output(step, name="pending", ready=False)
    members = [upload(r.project, t, name=t) for t in ("m2", "m1")]
    unready_member = Resource.objects.create(
        name="m0", project=r.project, resource_type=ResourceType.objects.get(mimetype="text/plain")
    )
    listed = r.list_output(step, [members[0], unready_member, members[1]])
    files = ready_files([single, pending, listed])
    assert [(o.pk, f.name) for o, f in files] == [(single.pk, "single"), (listed.pk, "m2"), (listed.pk, "m1")]


def test_resource_filter_package_and_batch_agree():
    r = Run()
    page = upload(r.project, "page", name="folio1")
    first, second = r.job("A", page=page), r.job("B", page=page)
    r.consume(second, r.output(first, name="folio1"))
    r.output(second, text="result", name="folio1", port="Text output")
    r.output(second, text="result 2", name="folio1", port="Text output")  # same step name: numbered
    r.consume(r.job("Labeler"), Output.objects.filter(run_job=second).first())

    filtered = ResourceFilter({"result_of_workflow_run": str(r.run.pk)}, queryset=Resource.objects.all()).qs
    assert {x.pk for x in filtered} == {o.resource_id for o in Output.objects.filter(run_job=second)}

    package = ResultsPackage.objects.create(workflow_run=r.run, packaging_mode=0)
    build_package(package)
    names = zipfile.ZipFile(package_path(package)).namelist()
    assert sorted(n for n in names if n.startswith("data/")) == [
        "data/B - Text output/folio1 (2).txt", "data/B - Text output/folio1.txt",
    ]


def test_batch_export_writes_end_points_only(tmp_path):
    r = Run()
    page = upload(r.project, "page", name="folio1")
    first, second = r.job("A", page=page), r.job("B", page=page)
    r.consume(second, r.output(first, text="middle"))
    r.output(second, text="one")
    r.output(second, text="two")
    once = r.job("Summary")
    r.list_output(once, [upload(r.project, "x", name="x"), upload(r.project, "y", name="y")])
    written = batch.export_outputs(r.run, tmp_path)
    relative = sorted(p.relative_to(tmp_path).as_posix() for p in written)
    assert relative == [
        "Summary - Texts/x.txt", "Summary - Texts/y.txt", "folio1/B - Text output (2).txt", "folio1/B - Text output.txt",
    ]
    assert {(tmp_path / "folio1/B - Text output.txt").read_text(), (tmp_path / "folio1/B - Text output (2).txt").read_text()} == {"one", "two"}
