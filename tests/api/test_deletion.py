"""Deleting a project takes everything of it, files included; deleting a user never leaves
no superuser, nor projects without their creator (rodan.deletion)."""

import threading
import time

import pytest
import requests
from api_clients import client_for, make_user
from builders import chain_document, upload, valid_workflow, wait_for
from django.contrib.auth import get_user_model

from rodan import storage
from rodan.engine.expansion import create_run
from rodan.models import (
    Input,
    InputPort,
    Output,
    Project,
    Resource,
    ResourceList,
    ResourceListMembership,
    ResultsPackage,
    RunJob,
    Workflow,
    WorkflowRun,
)
from rodan.models.status import RunJobStatus
from rodan.packages import package_path

HELLO = "Hello World - Python3"


def _project_in_use(creator):
    """A project whose run took an input resource and wrote a file, with a list and a results package."""
    project = Project.objects.create(name="in use", creator=creator)
    project.admins.add(creator)
    page = upload(project, "page text", name="page")
    listed = ResourceList.objects.create(name="list", project=project)
    ResourceListMembership.objects.create(resource_list=listed, resource=page, order=0)
    workflow = valid_workflow(project, chain_document([{"Tag": "a"}, {"Tag": "b"}], job_name=HELLO))
    run = create_run(workflow, {InputPort.objects.get(workflow_job__workflow=workflow, extern=True): [page]})
    written = Output.objects.filter(run_job__workflow_run=run).first().resource
    storage.store_stream(written, [b"result"])
    written.save()
    package = ResultsPackage.objects.create(workflow_run=run, status=RunJobStatus.FINISHED)
    package_path(package).parent.mkdir(parents=True, exist_ok=True)
    package_path(package).write_bytes(b"zip")
    return project, run, package


def test_deleting_a_project_whose_run_took_an_input_deletes_everything_of_it():
    creator = make_user()
    project, run, package = _project_in_use(creator)
    folder = storage.media_root() / storage.project_folder(project.pk)
    assert Input.objects.filter(run_job__workflow_run=run, resource__isnull=False).exists()
    assert any(path.name == storage.ORIGINAL_FILE for path in folder.rglob("*"))

    response = client_for(creator).delete(f"/api/project/{project.pk}/")

    assert response.status_code == 204, response.content
    assert not Project.objects.filter(pk=project.pk).exists()
    for model, path in [
        (Resource, "project"), (ResourceList, "project"), (Workflow, "project"), (WorkflowRun, "project"),
        (RunJob, "workflow_run__project"), (Input, "run_job__workflow_run__project"),
        (Output, "run_job__workflow_run__project"), (ResultsPackage, "workflow_run__project"),
    ]:
        assert not model.objects.filter(**{f"{path}_id": project.pk}).exists(), model.__name__
    assert not folder.exists()
    assert not package_path(package).exists()


def test_deleting_a_project_stops_its_running_jobs():
    """As for a deleted run: unfinished RunJobs are cancelled, so their workers discard what they make."""
    creator = make_user()
    project, run, _ = _project_in_use(creator)
    RunJob.objects.filter(workflow_run=run).update(status=RunJobStatus.PROCESSING, claimed_by="host:1")
    other = Project.objects.create(name="untouched", creator=creator)

    assert client_for(creator).delete(f"/api/project/{project.pk}/").status_code == 204

    assert not RunJob.objects.filter(workflow_run_id=run.pk).exists()
    assert Project.objects.filter(pk=other.pk).exists()


@pytest.fixture
def only_superuser():
    """A superuser who is, for the test, the only active one (the others are restored afterwards)."""
    users = get_user_model().objects
    others = list(users.filter(is_superuser=True, is_active=True).values_list("pk", flat=True))
    users.filter(pk__in=others).update(is_superuser=False)
    yield make_user(is_superuser=True, is_staff=True)
    users.filter(pk__in=others).update(is_superuser=True)


def test_the_last_superuser_cannot_delete_themselves(only_superuser):
    response = client_for(only_superuser).delete(f"/api/user/{only_superuser.pk}/")
    assert response.status_code == 409
    assert response.json() == {
        "detail": f"{only_superuser.username} is the last superuser; "
        "make another user a superuser before deleting this one."
    }
    assert get_user_model().objects.filter(pk=only_superuser.pk).exists()


def test_a_superuser_goes_when_another_stays(only_superuser):
    second = make_user(is_superuser=True)
    assert client_for(only_superuser).delete(f"/api/user/{second.pk}/").status_code == 204
    assert client_for(only_superuser).delete(f"/api/user/{only_superuser.pk}/").status_code == 409


def test_a_projects_creator_cannot_be_deleted(only_superuser):
    creator = make_user()
    Project.objects.create(name="Salzinnes", creator=creator)
    Project.objects.create(name="Einsiedeln", creator=creator)
    for client in (client_for(creator), client_for(only_superuser)):
        response = client.delete(f"/api/user/{creator.pk}/")
        assert response.status_code == 409
        assert response.json()["detail"] == (
            f'{creator.username} created 2 project(s) ("Einsiedeln", "Salzinnes"), which would be left '
            "without an owner; delete those projects first."
        )
    assert get_user_model().objects.filter(pk=creator.pk).exists()


def test_a_user_without_projects_may_delete_themselves():
    user = make_user()
    assert client_for(user).delete(f"/api/user/{user.pk}/").status_code == 204
    assert not get_user_model().objects.filter(pk=user.pk).exists()


@pytest.mark.services
def test_a_project_deleted_while_others_add_to_it_answers_every_request_without_a_server_error(live_server):
    """Requests adding workflows and resources race the deletion: each gets a 2xx, 404 or 409, never a 500."""
    user = make_user()
    project = Project.objects.create(name="raced", creator=user)
    project.admins.add(user)
    project_url = f"{live_server}/api/project/{project.pk}/"
    headers = {"Authorization": f"Token {user.auth_token.key}", "Accept": "application/json"}
    statuses, stop = [], threading.Event()

    def keep_adding(index):
        session = requests.Session()
        session.headers.update(headers)
        while not stop.is_set():
            made = session.post(f"{live_server}/api/workflows/", json={"name": f"w{index}", "project": project_url}, timeout=30)
            uploaded = session.post(
                f"{live_server}/api/resources/",
                data={"project": project_url},
                files={"files": (f"page{index}.txt", b"text")},
                timeout=30,
            )
            statuses.extend([made.status_code, uploaded.status_code])

    adders = [threading.Thread(target=keep_adding, args=(i,)) for i in range(3)]
    for adder in adders:
        adder.start()
    try:
        wait_for(lambda: Workflow.objects.filter(project=project).count() >= 3, 30, "workflows to be added")
        deleted = requests.delete(project_url, headers=headers, timeout=60)
        time.sleep(1)  # requests that were waiting on the deletion answer
    finally:
        stop.set()
        for adder in adders:
            adder.join()
    assert deleted.status_code == 204, deleted.text
    assert 500 not in statuses and set(statuses) <= {201, 400, 404, 409}, sorted(set(statuses))
    assert not Project.objects.filter(pk=project.pk).exists()
    assert not Workflow.objects.filter(project_id=project.pk).exists() and not Resource.objects.filter(project_id=project.pk).exists()
