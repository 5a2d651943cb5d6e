"""Long representations cost a fixed number of queries, whatever their length, and their
links are the ones DRF's ``reverse()`` gives for every object (rodan.api.hyperlinks).

A project's detail lists every resource, workflow and resource list of it; a run's
RunJob list is read 100 a page for runs of thousands. Both once ran a query, or a
full URL reversal, per object.
"""

import uuid

import pytest
from api_clients import client_for, make_user
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.reverse import reverse

from rodan.models import (
    Input,
    InputPortType,
    Job,
    Output,
    OutputPortType,
    Project,
    Resource,
    ResourceList,
    ResourceType,
    RunJob,
    Workflow,
    WorkflowRun,
)
from rodan.models.status import RunJobStatus


def _project(owner, resources, workflows=2, lists=2):
    project = Project.objects.create(name="Antiphoner", creator=owner)
    project.admins.add(owner)
    png = ResourceType.objects.get(mimetype="image/rgb+png")
    for n in range(resources):
        Resource.objects.create(name=f"folio {n:03d} – verso", project=project, resource_type=png, creator=owner)
    for n in range(workflows):
        Workflow.objects.create(name=f"workflow {n}", project=project, creator=owner)
    for n in range(lists):
        ResourceList.objects.create(name=f"list {n}", project=project)
    return project


def _run(owner, run_jobs):
    """A run whose RunJobs have every kind of link: job, inputs, outputs, a working user."""
    project = _project(owner, resources=2, workflows=0, lists=0)
    page, result = project.resources.all()
    run = WorkflowRun.objects.create(project=project, creator=owner, name="run")
    job = Job.objects.order_by("name").first()
    in_type, out_type = InputPortType.objects.filter(job=job).first(), OutputPortType.objects.filter(job=job).first()
    for n in range(run_jobs):
        waiting = n % 2 == 0
        run_job = RunJob.objects.create(
            workflow_run=run, workflow_job_uuid=uuid.uuid4().hex, resource_uuid=page.uuid.hex, job=job,
            job_name=job.name, status=RunJobStatus.WAITING_FOR_INPUT if waiting else RunJobStatus.FINISHED,
            working_user=owner if waiting else None,
        )  # fmt: skip
        Input.objects.create(run_job=run_job, input_port_type_name="in", input_port_type=in_type, resource=page)
        Output.objects.create(run_job=run_job, output_port_type_name="out", output_port_type=out_type, resource=result)
    return run


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured), response


@pytest.fixture
def owner():
    return make_user()


def test_project_detail_costs_the_same_queries_for_3_or_30_resources(owner):
    client = client_for(owner)
    small, large = _project(owner, 3, 1, 1), _project(owner, 30, 6, 6)
    small_count, _ = _queries(client, f"/api/project/{small.pk}/")
    large_count, response = _queries(client, f"/api/project/{large.pk}/")
    assert len(response.json()["resources"]) == 30
    assert large_count == small_count


def test_project_detail_lists_url_and_name_newest_first(owner):
    project = _project(owner, 4)
    body = client_for(owner).get(f"/api/project/{project.pk}/").json()
    for key, route, manager in (
        ("resources", "resource", project.resources),
        ("workflows", "workflow", project.workflows),
        ("resourcelists", "resourcelist", project.resourcelists),
    ):
        expected = [
            {"url": f"http://testserver/api/{route}/{item.pk}/", "name": item.name}
            for item in manager.order_by("-created")
        ]
        assert body[key] == expected


def test_runjob_list_costs_the_same_queries_for_5_or_50_runjobs(owner):
    client = client_for(owner)
    small, large = _run(owner, 5), _run(owner, 50)
    small_count, _ = _queries(client, f"/api/runjobs/?workflow_run={small.pk}&page_size=100")
    large_count, response = _queries(client, f"/api/runjobs/?workflow_run={large.pk}&page_size=100")
    assert len(response.json()["results"]) == 50
    assert large_count == small_count


LINKS = {"job": "job-detail", "workflow_run": "workflowrun-detail", "working_user": "user-detail"}


@pytest.mark.parametrize(
    "path, extra, format",
    [
        ("/api/runjobs/", {}, None),
        ("/api/runjobs/", {"format": "json"}, None),  # DRF keeps ?format= in every link
        ("/api/runjobs.json", {}, "json"),  # and the suffix
    ],
)
def test_runjob_links_are_what_reverse_gives_for_each_object(owner, path, extra, format):
    run = _run(owner, 4)
    other = make_user()
    RunJob.objects.filter(workflow_run=run, working_user=owner).exclude(
        pk=RunJob.objects.filter(workflow_run=run, working_user=owner).first().pk
    ).update(working_user=other)
    # A host holding a user's id: that id's text appears twice in its link.
    client = client_for(owner)
    client.defaults["HTTP_HOST"] = f"h{owner.pk}.example.org:8{other.pk}"
    response = client.get(path, {"workflow_run": str(run.pk), **extra})
    assert response.status_code == 200, response.content
    request = response.wsgi_request
    link = lambda name, pk: reverse(name, kwargs={"pk": pk}, request=request, format=format)  # noqa: E731
    rows = response.json()["results"]
    assert len(rows) == 4 and {row["working_user"] for row in rows} > {link("user-detail", other.pk)}
    for row in rows:
        run_job = RunJob.objects.get(pk=row["uuid"])
        assert row["url"] == link("runjob-detail", run_job.pk)
        for field, name in LINKS.items():
            target = getattr(run_job, f"{field}_id")
            assert row[field] == (None if target is None else link(name, target))
        assert row["project"] == link("project-detail", run.project_id)
        assert row["inputs"] == [link("input-detail", pk) for pk in run_job.inputs.values_list("pk", flat=True)]
        assert row["outputs"] == [link("output-detail", pk) for pk in run_job.outputs.values_list("pk", flat=True)]
