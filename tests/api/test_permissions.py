"""The permission matrix: every project-reachable route walked as anonymous, outsider,
worker, admin and creator (rodan-compat.md §1 Permissions, without Rodan's gaps).

Outsiders get 404 for objects of other projects, exactly as for objects that
do not exist, and never see them in lists; workers and admins have full
rights on a project's children; only admins change the project and only its
creator deletes it.
"""

import uuid

import pytest
from api_clients import client_for, make_user
from builders import chain_document, upload, valid_workflow

from rodan.engine.expansion import create_run
from rodan.models import (
    Connection,
    InputPort,
    Label,
    OutputPort,
    Project,
    ResourceList,
    ResourceListMembership,
    ResultsPackage,
    WorkflowJobGroup,
)

ROLES = ["anonymous", "outsider", "worker", "admin", "creator"]
MEMBER = {"anonymous": 401, "outsider": 404, "worker": 200, "admin": 200, "creator": 200}
DELETED = {"anonymous": 401, "outsider": 404, "worker": 204, "admin": 204, "creator": 204}


@pytest.fixture(scope="module")
def world():
    """A project with one of everything, and a user in each role."""
    users = {role: make_user() for role in ROLES if role != "anonymous"}
    project = Project.objects.create(name="private", creator=users["creator"])
    project.admins.add(users["creator"], users["admin"])
    project.workers.add(users["worker"])
    page = upload(project, "page text", name="page")
    resource_list = ResourceList.objects.create(name="list", project=project)
    ResourceListMembership.objects.create(resource_list=resource_list, resource=page, order=0)
    page.labels.add(Label.objects.create(name=f"secret-{uuid.uuid4().hex[:8]}"))
    workflow = valid_workflow(project, chain_document([{"Tag": "a"}, {"Tag": "b"}], job_name="Hello World - Python3"))
    workflow_job = workflow.workflow_jobs.first()
    group = WorkflowJobGroup.objects.create(name="g", workflow=workflow)
    run = create_run(workflow, {InputPort.objects.get(workflow_job__workflow=workflow, extern=True): [page]})
    run_job = run.run_jobs.first()
    objects = {
        "project": project,
        "workflow": workflow,
        "workflowjob": workflow_job,
        "workflowjobgroup": group,
        "inputport": InputPort.objects.filter(workflow_job__workflow=workflow).first(),
        "outputport": OutputPort.objects.filter(workflow_job__workflow=workflow).first(),
        "connection": Connection.objects.get(input_port__workflow_job__workflow=workflow),
        "resource": page,
        "resourcelist": resource_list,
        "label": page.labels.first(),
        "workflowrun": run,
        "runjob": run_job,
        "input": run_job.inputs.first(),
        "output": run_job.outputs.first(),
        "resultspackage": ResultsPackage.objects.create(workflow_run=run, status=4),
    }
    return users, objects


def client_as(world, role):
    users, _ = world
    return client_for(users.get(role))


def detail(kind, obj):
    return f"/api/{kind}/{obj.pk}/"


CHILDREN = [
    "workflow", "workflowjob", "workflowjobgroup", "inputport", "outputport", "connection", "resource",
    "resourcelist", "label", "workflowrun", "runjob", "input", "output", "resultspackage",
]
LISTS = {kind: ("workflowjobgroups" if kind == "workflowjobgroup" else f"{kind}s") for kind in CHILDREN}

#: (kind, PATCH body) of a harmless change each member may make to a child.
PATCHES = [
    ("workflow", {"description": "changed"}),
    ("workflowjob", {"appearance": {"x": 1, "y": 1}}),
    ("workflowjobgroup", {"description": "changed"}),
    ("inputport", {"label": "changed"}),
    ("outputport", {"label": "changed"}),
    ("connection", {"offset_x": 1.5}),
    ("resource", {"description": "changed"}),
    ("resourcelist", {"description": "changed"}),
    ("workflowrun", {"description": "changed"}),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", ["project", *CHILDREN])
def test_get_detail(world, kind, role):
    response = client_as(world, role).get(detail(kind, world[1][kind]))
    assert response.status_code == MEMBER[role], response.content
    assert "detail" in response.json() if response.status_code >= 400 else True


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", ["project", *CHILDREN])
def test_lists_hold_only_the_users_objects(world, kind, role):
    plural = "projects" if kind == "project" else LISTS[kind]
    response = client_as(world, role).get(f"/api/{plural}/?page_size=100")
    if role == "anonymous":
        assert response.status_code == 401
        return
    body = response.json()
    rows = body if isinstance(body, list) else body["results"]
    listed = {row["uuid"] for row in rows}
    assert (str(world[1][kind].pk) in listed) == (role != "outsider")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind, body", PATCHES)
def test_patch_child(world, kind, body, role):
    response = client_as(world, role).patch(detail(kind, world[1][kind]), body, format="json")
    assert response.status_code == MEMBER[role], response.content


@pytest.mark.parametrize(
    "role, expected",
    [("anonymous", 401), ("outsider", 404), ("worker", 403), ("admin", 200), ("creator", 200)],
)
def test_patch_project(world, role, expected):
    response = client_as(world, role).patch(detail("project", world[1]["project"]), {"description": role}, format="json")
    assert response.status_code == expected


@pytest.mark.parametrize(
    "role, admins, workers",
    [
        ("anonymous", 401, 401),
        ("outsider", 404, 404),
        ("worker", 403, 403),
        ("admin", 403, 200),
        ("creator", 200, 200),
    ],
)
def test_change_members(world, role, admins, workers):
    users, objects = world
    base = detail("project", objects["project"])
    client = client_as(world, role)
    current_admins = [users["creator"].username, users["admin"].username]
    assert client.put(base + "admins/", current_admins, format="json").status_code == admins
    assert client.put(base + "workers/", [users["worker"].username], format="json").status_code == workers
    assert client.get(base + "workers/").status_code == MEMBER[role]


@pytest.mark.parametrize(
    "role, expected",
    [("anonymous", 401), ("outsider", 404), ("worker", 403), ("admin", 403), ("creator", 204)],
)
def test_delete_project(role, expected):
    """Deleting is the creator's alone (each case on a fresh project)."""
    users = {r: make_user() for r in ROLES if r != "anonymous"}
    project = Project.objects.create(name="doomed", creator=users["creator"])
    project.admins.add(users["creator"], users["admin"])
    project.workers.add(users["worker"])
    response = client_for(users.get(role)).delete(detail("project", project))
    assert response.status_code == expected
    assert Project.objects.filter(pk=project.pk).exists() == (expected != 204)


@pytest.mark.parametrize("role", ROLES)
def test_delete_child(role):
    """Every member may delete a project's children; outsiders cannot even find them."""
    users = {r: make_user() for r in ROLES if r != "anonymous"}
    project = Project.objects.create(name="p", creator=users["creator"])
    project.admins.add(users["creator"], users["admin"])
    project.workers.add(users["worker"])
    resource = upload(project, "x")
    response = client_for(users.get(role)).delete(detail("resource", resource))
    assert response.status_code == DELETED[role]


def test_outsiders_cannot_reference_other_projects_objects(world):
    users, objects = world
    outsider = client_as(world, "outsider")
    project_url = detail("project", objects["project"])
    response = outsider.post("/api/workflows/", {"project": project_url, "name": "intruder"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"project": ["Invalid hyperlink - Object does not exist."]}
    own = client_for(users["outsider"]).post("/api/projects/", {"name": "mine"}, format="json").json()["url"]
    steal = outsider.post(
        "/api/resourcelists/", {"project": own, "resources": [detail("resource", objects["resource"])]}, format="json"
    )
    assert steal.status_code == 400 and "resources" in steal.json()
    run = outsider.post(
        "/api/workflowruns/", {"workflow": detail("workflow", objects["workflow"]), "resource_assignments": {}}, format="json"
    )
    assert run.json() == {"workflow": ["Invalid hyperlink - Object does not exist."]}
    package = outsider.post(
        "/api/resultspackages/", {"workflow_run": detail("workflowrun", objects["workflowrun"]), "packaging_mode": 0},
        format="json",
    )
    assert package.status_code == 400


@pytest.mark.parametrize("role", ROLES)
def test_interactive_acquire_and_event_stream(world, role):
    """Acquiring a RunJob (not waiting here, so members get 400) and the status stream."""
    _, objects = world
    client = client_as(world, role)
    acquire = client.post(f"/api/interactive/{objects['runjob'].pk}/acquire/")
    assert acquire.status_code == {"anonymous": 401, "outsider": 404}.get(role, 400)
    events = client.get(detail("project", objects["project"]) + "events/", HTTP_ACCEPT="text/event-stream")
    assert events.status_code == MEMBER[role]
    if role != "anonymous":  # a browser's EventSource sends the client's token cookie instead of a header
        browser = client_for()
        browser.cookies["token"] = world[0][role].auth_token.key
        assert browser.get(detail("project", objects["project"]) + "events/").status_code == MEMBER[role]


@pytest.mark.parametrize("role", ROLES)
def test_resource_assignments(world, role):
    _, objects = world
    route = detail("workflow", objects["workflow"]) + "resourceassignments/"
    client = client_as(world, role)
    assert client.get(route).status_code == MEMBER[role]
    assert client.put(route, {}, format="json").status_code == MEMBER[role]


@pytest.mark.parametrize("role", ROLES)
def test_archive_holds_only_the_users_resources(world, role):
    response = client_as(world, role).get(f"/api/resources/archive/?resource_uuid={world[1]['resource'].pk}")
    assert response.status_code == {"anonymous": 401, "outsider": 400}.get(role, 200)


@pytest.mark.parametrize("role, expected", [("anonymous", 401), ("outsider", 403), ("worker", 403)])
def test_task_queue_is_for_staff(world, role, expected):
    assert client_as(world, role).get("/api/taskqueue/active/").status_code == expected


def test_staff_read_the_task_queue():
    staff = client_for(make_user(is_staff=True))
    for view in ("active", "scheduled", "status"):
        response = staff.get(f"/api/taskqueue/{view}/")
        assert response.status_code == 200 and isinstance(response.json(), dict)


def test_registries_are_open_to_anyone():
    anonymous = client_for()
    for route in ("jobs", "inputporttypes", "outputporttypes", "resourcetypes"):
        assert anonymous.get(f"/api/{route}/").status_code == 200
    assert anonymous.get("/api/").status_code == 200
