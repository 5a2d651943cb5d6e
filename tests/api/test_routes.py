"""The REST routes and representations of rodan-compat.md §1-2, in process (no server, no workers)."""

import io
import json

import pytest
from django.core import mail
from django.test import override_settings
from api_clients import PASSWORD, client_for, make_user
from PIL import Image

from rodan.models import Label, Resource, RunJob, WorkflowRun
from rodan.models.status import RunStatus

HELLO = "Hello World - Python3"


def png_bytes(colour=(200, 30, 30), size=(12, 8)):
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def upload(client, project_url, files, **extra):
    payload = {"project": project_url, "files": files, **extra}
    return client.post("/api/resources/", payload, format="multipart")


def named_file(name, content):
    handle = io.BytesIO(content)
    handle.name = name
    return handle


def hello_document(job=HELLO):
    return {
        "__version__": 0.2,
        "name": "hello",
        "description": "",
        "workflow_jobs": [
            {
                "job_name": job,
                "job_settings": {},
                "input_ports": [],
                "output_ports": [{"label": "Text output", "type": "Text output", "id": 1}],
                "appearance": {"x": 1, "y": 2},
            }
        ],
        "connections": [],
    }


@pytest.fixture
def owner():
    return make_user()


@pytest.fixture
def client(owner):
    return client_for(owner)


@pytest.fixture
def project_url(client):
    response = client.post("/api/projects/", {"name": "Salzinnes"}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["url"]


def test_root_names_every_route_the_client_looks_up():
    body = client_for().get("/api/").json()
    assert body["version"] == "v3.1.0" and body["build_hash"] == "local"
    assert body["configuration"]["page_length"] == 20
    assert body["configuration"]["job_packages"]["rodan.jobs.utilities"]
    for name in ("projects", "resource-archive", "auth-token", "taskqueue-status", "auth-reset-password-confirm"):
        assert body["routes"][name].startswith("http://testserver/api/")
    assert client_for().head("/api/").status_code == 200


def test_html_by_default_and_json_on_request():
    anonymous = client_for()
    anonymous.defaults.pop("HTTP_ACCEPT")
    assert anonymous.get("/api/").headers["Content-Type"].startswith("text/html")
    assert anonymous.get("/api/?format=json").headers["Content-Type"] == "application/json"
    assert anonymous.get("/api/jobs.json").headers["Content-Type"] == "application/json"


def test_token_login_errors_and_logout(owner):
    anonymous = client_for()
    assert anonymous.post("/api/auth/token/", {"password": "x"}).json() == {
        "is_logged_in": False,
        "detail": "You must supply an email.",
    }
    assert anonymous.post("/api/auth/token/", {"email": owner.email}).json()["detail"] == "You must supply a password."
    wrong = anonymous.post("/api/auth/token/", {"email": owner.email, "password": "nope"})
    assert wrong.status_code == 401 and wrong.json()["detail"] == "Invalid email or password."
    ok = anonymous.post("/api/auth/token/", {"email": owner.email, "password": PASSWORD}, format="json")
    assert ok.status_code == 200 and ok.json()["token"] == owner.auth_token.key
    assert ok.json()["username"] == owner.username and ok.json()["user_preference"] is None

    me = client_for(owner)
    assert me.get("/api/auth/me/").json()["email"] == owner.email
    assert me.patch("/api/auth/me/", {"first_name": "Ada", "is_superuser": True}, format="json").status_code == 200
    owner.refresh_from_db()
    assert owner.first_name == "Ada" and not owner.is_superuser  # auth/me cannot grant superuser
    assert me.post("/api/auth/reset-token/").status_code == 204
    assert me.get("/api/auth/me/").status_code == 401
    again = anonymous.post("/api/auth/token/", {"email": owner.email, "password": PASSWORD}).json()["token"]
    assert again != ok.json()["token"]


def test_basic_auth_with_the_email(owner):
    client = client_for()
    client.credentials(HTTP_AUTHORIZATION="Basic " + __import__("base64").b64encode(f"{owner.email}:{PASSWORD}".encode()).decode())
    assert client.get("/api/projects/").status_code == 200
    denied = client_for().get("/api/projects/")
    assert denied.status_code == 401 and denied["WWW-Authenticate"] == 'Basic realm="api"'


@override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
def test_register_activate_and_reset_password():
    anonymous = client_for()
    response = anonymous.post(
        "/api/auth/register/", {"email": "new@example.org", "username": "newbie", "password": "s3cret"}, format="json"
    )
    assert response.status_code == 201 and set(response.json()) == {"username", "email", "id"}
    login = {"email": "new@example.org", "password": "s3cret"}
    assert anonymous.post("/api/auth/token/", login).status_code == 403
    uid, token = mail.outbox[-1].body.split("#activate/")[1].split("/")
    assert anonymous.post("/api/auth/activate/", {"uid": uid, "token": token}).status_code == 204
    assert anonymous.post("/api/auth/token/", login).status_code == 200
    assert anonymous.post("/api/auth/reset-password/", {"email": "new@example.org"}).status_code == 204
    uid, token = mail.outbox[-1].body.split("#password-reset/")[1].split("/")
    confirm = {"uid": uid, "token": token, "new_password": "changed"}
    assert anonymous.post("/api/auth/reset-password/confirm/", confirm).status_code == 204
    assert anonymous.post("/api/auth/token/", {**login, "password": "changed"}).status_code == 200


def test_project_representations_and_members(client, owner, project_url):
    listed = client.get("/api/projects/").json()
    assert set(listed) == {"count", "next", "previous", "current_page", "total_pages", "results"}
    row = listed["results"][0]
    assert row["creator"] == owner.username and row["admins"] == [owner.username]
    assert row["workflow_count"] == 0 and row["resource_count"] == 0
    detail = client.get(project_url).json()
    assert detail["admins_url"] == project_url + "admins/" and detail["workflows"] == []
    worker = make_user()
    response = client.put(project_url + "workers/", {worker.username: worker.username})  # the client's form
    assert response.status_code == 200 and response.json() == [worker.username]
    assert client_for(worker).get(project_url).status_code == 200
    unknown = client.put(project_url + "admins/", ["nobody-here"], format="json")
    assert unknown.status_code == 400 and unknown.json() == {"detail": "User nobody-here does not exist."}
    assert client.put(project_url + "admins/", [], format="json").json() == [owner.username]  # creator stays
    assert client.get("/api/projects/?page=9").json() == {"detail": "Invalid page."}


def test_registries_unpaginated_filters_and_options(client):
    jobs = client.get("/api/jobs/?disable_pagination=true&name__icontains=hello").json()
    assert isinstance(jobs, list) and {j["name"] for j in jobs} >= {HELLO, "Hello World - Interactive"}
    hello = next(j for j in jobs if j["name"] == HELLO)
    assert hello["settings"] == {"job_queue": "Python3", "type": "object"}
    output_type = hello["output_port_types"][0]
    text = client.get("/api/resourcetypes/?mimetype=text/plain&disable_pagination=1").json()[0]
    assert output_type["resource_types"] == [text["url"]] and text["extension"] == "txt"
    options = client.options("/api/jobs/").json()
    assert options["filter_fields"]["name"] == ["exact", "icontains"] and "ordering_fields" in options
    # Found by the fuzzer: offsets PostgreSQL refuses, and moments before year 1 in UTC.
    assert client.get("/api/runjobs/?created=0117-02-14T13%3A14%3A51-22%3A37").status_code == 200
    assert list(client.get("/api/runjobs/?updated__lt=0001-01-01T00:00%2B01:00").json()) == ["updated__lt"]
    bad_date = client.get("/api/projects/?created__lt=yesterday")
    assert bad_date.status_code == 400 and list(bad_date.json()) == ["created__lt"]
    paged = client.get("/api/jobs/?page_size=2").json()
    assert len(paged["results"]) == 2 and paged["total_pages"] >= 2


def test_upload_download_labels_and_lists(client, owner, project_url):
    response = upload(
        client, project_url, [named_file("page1.png", png_bytes()), named_file("notes.txt", b"hi")], label_names="a"
    )
    assert response.status_code == 201, response.content
    page, notes = response.json()
    assert page["name"] == "page1" and page["creator"] == owner.username and page["processing_status"] is None
    assert client.get(page["resource_type"]).json()["mimetype"] == "image/rgb+png"
    assert [label["name"] for label in page["labels"]] == ["a"]
    download = client.get(page["resource_file"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == png_bytes()
    assert upload(client, project_url, []).json() == {"files": ["You must supply at least one file to upload."]}
    assert client.post("/api/resources/", {"files": [named_file("x.txt", b"x")]}, format="multipart").json() == {
        "project": ["This field is required."]
    }

    client.patch(notes["url"], {"label_names": "b"}, format="json")
    relabelled = client.patch(page["url"], {"label_names": "b,c," + "x" * 40}, format="json").json()
    assert sorted(label["name"] for label in relabelled["labels"]) == ["b", "c"]  # too long a name is skipped
    assert not Label.objects.filter(name="a").exists()  # unused labels go
    assert client.get("/api/labels/?disable_pagination=1&name=c").json()[0]["name"] == "c"

    listing = client.get(f"/api/resources/?no_page&project={project_url.rstrip('/').rsplit('/', 1)[1]}").json()
    assert isinstance(listing, list) and len(listing) == 2

    both = client.post(
        "/api/resourcelists/", {"project": project_url, "resources": [page["url"], notes["url"]]}, format="json"
    )
    assert both.status_code == 400  # members must share one type
    single = client.post("/api/resourcelists/", {"project": project_url, "resources": [page["url"]]}, format="json")
    assert single.status_code == 201 and single.json()["resource_type"]["mimetype"] == "image/rgb+png"
    members = client.get(f"/api/resources/?resource_list={single.json()['uuid']}").json()
    assert [r["url"] for r in members["results"]] == [page["url"]]

    archive = client.get(f"/api/resources/archive/?resource_uuid={page['uuid']}&resource_uuid={notes['uuid']}")
    assert archive.status_code == 200 and archive["Content-Type"] == "application/zip"
    import zipfile

    assert sorted(zipfile.ZipFile(io.BytesIO(archive.content)).namelist()) == ["notes.txt", "page1.png"]
    assert client.delete(notes["url"]).status_code == 204


def test_workflow_building_validation_and_export(client, project_url):
    created = client.post("/api/workflows/", {"project": project_url, "name": "w"}, format="json")
    assert created.status_code == 201 and created.json()["valid"] is False
    workflow_url = created.json()["url"]
    refused = client.post("/api/workflows/", {"project": project_url, "name": "w", "valid": True}, format="json")
    assert refused.json() == {
        "valid": ["You can't create a valid workflow - it must be validated through a PATCH request."]
    }
    empty = client.patch(workflow_url, {"valid": True}, format="json")
    assert empty.status_code == 409 and empty.json()["error_code"] == "WF_EMPTY"

    job = client.get("/api/jobs/?name=" + HELLO).json()["results"][0]
    wfj = client.post("/api/workflowjobs/", {"workflow": workflow_url, "job": job["url"]}, format="json")
    assert wfj.status_code == 201, wfj.content
    assert wfj.json()["name"] == HELLO and wfj.json()["job_settings"] == {}
    assert wfj.json()["appearance"] == {"x": 0.5, "y": 0.5}
    no_output = client.patch(workflow_url, {"valid": "true"}, format="json")
    assert no_output.status_code == 409 and no_output.json()["error_code"] == "WFJ_NO_OP"
    assert no_output.json()["associated_objects"] == {"workflowjobs": [wfj.json()["url"]]}
    port = client.post(
        "/api/outputports/",
        {"workflow_job": wfj.json()["url"], "output_port_type": job["output_port_types"][0]["url"]},
        format="json",
    )
    assert port.status_code == 201 and port.json()["label"] == "Text output"
    valid = client.patch(workflow_url, {"valid": True}, format="json")
    assert valid.status_code == 200 and valid.json()["valid"] is True
    assert [p["url"] for p in valid.json()["workflow_output_ports"]] == [port.json()["url"]]
    assert client.patch(workflow_url, {"valid": False}, format="json").json() == {"valid": "Cannot invalidate a Workflow."}

    client.patch(wfj.json()["url"], {"appearance": {"x": 3, "y": 4}}, format="json")
    assert client.get(workflow_url).json()["valid"] is True  # appearance does not count
    assert client.patch(wfj.json()["url"], {"job_settings": ["not", "an", "object"]}, format="json").status_code == 400
    client.delete(port.json()["url"])
    assert client.get(workflow_url).json()["valid"] is False  # structure changed

    exported = client.get(workflow_url + "?export").json()
    assert exported["__version__"] == 0.2 and exported["workflow_jobs"][0]["job_name"] == HELLO


def test_import_errors_and_connections_across_workflows(client, project_url):
    bad = client.post("/api/workflows/", {"project": project_url, "serialized": {"name": "x"}}, format="json")
    assert bad.json() == {"serialized": "Please provide the version of serialization format."}
    doc = hello_document()
    doc["workflow_jobs"][0]["job_name"] = "No such job"
    missing = client.post("/api/workflows/", {"project": project_url, "serialized": doc}, format="json").json()
    assert missing == {"serialized": {"workflow_jobs[0].job_name": "Job No such job does not exist in current Rodan installation."}}
    first = client.post("/api/workflows/", {"project": project_url, "serialized": hello_document()}, format="json")
    second = client.post("/api/workflows/", {"project": project_url, "serialized": hello_document()}, format="json")
    assert first.status_code == 201 and first.json()["name"] == "hello"
    out_port = client.get(first.json()["url"]).json()["workflow_jobs"][0]["output_ports"][0]["url"]
    hello_job = client.get("/api/jobs/?name=" + HELLO).json()["results"][0]
    wfj2 = client.get(second.json()["url"]).json()["workflow_jobs"][0]["url"]
    in_port = client.post(
        "/api/inputports/", {"workflow_job": wfj2, "input_port_type": hello_job["input_port_types"][0]["url"]}, format="json"
    ).json()["url"]
    crossed = client.post("/api/connections/", {"input_port": in_port, "output_port": out_port}, format="json")
    assert crossed.json() == {"non_field_errors": ["The InputPort is not in the same workflow as the OutputPort."]}
    bogus = client.post("/api/connections/", {"input_port": "http://x/api/nothing/", "output_port": out_port}, format="json")
    assert bogus.json()["input_port"][0].startswith("Invalid hyperlink - ")


def test_runs_created_with_assignments_then_cancelled_and_retried(client, project_url):
    doc = hello_document()
    doc["workflow_jobs"][0]["input_ports"] = [{"label": "Text input", "type": "Text input", "id": 2}]
    workflow_url = client.post("/api/workflows/", {"project": project_url, "serialized": doc}, format="json").json()["url"]
    not_valid = client.post("/api/workflowruns/", {"workflow": workflow_url, "resource_assignments": {}}, format="json")
    assert not_valid.json() == {"workflow": ["Workflow must be valid before you can run it."]}
    workflow = client.patch(workflow_url, {"valid": True}, format="json").json()
    in_port = workflow["workflow_input_ports"][0]["url"]
    text = upload(client, project_url, [named_file("t.txt", b"text")], type="text/plain").json()[0]
    run_body = {"workflow": workflow_url, "resource_assignments": {in_port: [text["url"]]}}
    assert client.post("/api/workflowruns/", {**run_body, "status": 4}, format="json").json() == {
        "status": ["Can only create a WorkflowRun that requests processing."]
    }
    unsatisfied = client.post("/api/workflowruns/", {"workflow": workflow_url, "resource_assignments": {}}, format="json")
    assert unsatisfied.json()["resource_assignments"][0].startswith("There are still unsatisfied InputPorts: ")
    wrong_item = {"workflow": workflow_url, "resource_assignments": {in_port: [workflow_url]}}
    assert client.post("/api/workflowruns/", wrong_item, format="json").json() == {
        "resource_assignments": {in_port: {"0": ["Invalid hyperlink - Incorrect URL match."]}}
    }
    created = client.post("/api/workflowruns/", {**run_body, "status": 21}, format="json")
    assert created.status_code == 201 and created.json()["status"] == 21
    run = created.json()
    assert run["origin_resources"] == [text["uuid"].replace("-", "")]
    run_jobs = client.get(f"/api/runjobs/?workflow_run={run['uuid']}").json()["results"]
    assert len(run_jobs) == 1 and run_jobs[0]["job_name"] == HELLO and run_jobs[0]["interactive_acquire"] is None
    assert client.patch(run["url"], {"status": 31}, format="json").json() == {"status": ["Invalid status update"]}
    cancelled = client.patch(run["url"], {"status": 29}, format="json")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == 29
    assert WorkflowRun.objects.get(pk=run["uuid"]).status == RunStatus.CANCELLED
    assert client.patch(run["url"], {"status": 31}, format="json").status_code == 200
    foreign = {"last_redone_runjob_tree": "http://testserver/api/runjob/00000000-0000-0000-0000-000000000000/"}
    assert client.patch(run["url"], foreign, format="json").json() == {
        "last_redone_runjob_tree": ["Requested RunJob is not in this WorkflowRun."]
    }
    run_job = RunJob.objects.get(workflow_run=run["uuid"])
    RunJob.objects.filter(pk=run_job.pk).update(status=0)
    not_processed = {"last_redone_runjob_tree": run_jobs[0]["url"]}
    assert client.patch(run["url"], not_processed, format="json").json() == {
        "last_redone_runjob_tree": ["Requested RunJob is not yet processed."]
    }
    RunJob.objects.filter(pk=run_job.pk).update(status=4)
    redone = client.patch(run["url"], not_processed, format="json")
    assert redone.status_code == 200 and redone.json()["last_redone_runjob_tree"] == run_jobs[0]["url"]
    assert redone.json()["status"] == RunStatus.RETRYING
    client.patch(run["url"], {"status": 29}, format="json")
    assert client.delete(run["url"]).status_code == 204
    assert not RunJob.objects.filter(workflow_run=run["uuid"]).exists()
    assert Resource.objects.filter(pk=text["uuid"]).exists()


def test_users_and_preferences(client, owner):
    users = client.get(f"/api/users/?username__in={owner.username},nobody").json()
    assert users == [{"url": f"http://testserver/api/user/{owner.pk}/", "username": owner.username, "first_name": "", "last_name": ""}]
    other = make_user()
    assert client.get(f"/api/user/{other.pk}/").status_code == 403
    assert client.get(f"/api/user/{owner.pk}/").json()["email"] == owner.email
    created = client.post("/api/users/", {"username": "made", "email": "made@example.org", "password": "x"}, format="json")
    assert created.status_code == 201 and created.json() == {"username": "made"}
    mine = client.post("/api/userpreferences/", {"user": f"/api/user/{owner.pk}/"}, format="json")
    assert mine.status_code == 201 and mine.json()["send_email"] is True
    theirs = client.post("/api/userpreferences/", {"user": f"/api/user/{other.pk}/"}, format="json")
    assert theirs.status_code == 400
    assert client.get("/api/auth/me/").json()["user_preference"] == mine.json()["url"]


def test_errors_are_json_without_tracebacks(client, monkeypatch):
    assert client.get("/api/no-such-route/").json() == {"detail": "Not found."}
    for route in ("resources/", "auth/token/"):  # a JSON body that is not an object is a 400
        response = client.post(f"/api/{route}", "null", content_type="application/json")
        assert response.status_code == 400 and "non_field_errors" in response.json()
    assert client.delete("/api/jobs/").status_code == 405 and "detail" in client.delete("/api/jobs/").json()
    from rodan.api.views import registry

    def explode(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(registry.JobViewSet, "list", explode)
    response = client.get("/api/jobs/")
    assert response.status_code == 500
    body = json.dumps(response.json())
    assert "error id" in body and "secret internals" not in body and "Traceback" not in body


BROWSABLE = [
    "", "projects/", "jobs/", "inputporttypes/", "outputporttypes/", "resourcetypes/", "resources/", "resourcelists/",
    "labels/", "workflows/", "workflowjobs/", "workflowjobgroups/", "inputports/", "outputports/", "connections/",
    "workflowruns/", "runjobs/", "inputs/", "outputs/", "resultspackages/", "users/", "userpreferences/", "auth/me/",
]


def test_browsable_api_renders_every_list_and_its_first_item(owner):
    """HTML is the default representation (no Accept header), so every page must render."""
    from builders import chain_document, upload as store, valid_workflow

    from rodan.engine.expansion import create_run
    from rodan.models import InputPort, Project

    project = Project.objects.create(name="browsed", creator=owner)
    workflow = valid_workflow(project, chain_document([{}], job_name=HELLO))
    create_run(workflow, {InputPort.objects.get(workflow_job__workflow=workflow, extern=True): [store(project, "x")]})
    html = client_for(owner)
    html.defaults["HTTP_ACCEPT"] = "text/html"
    pages = [f"/api/{route}" for route in BROWSABLE] + [f"/api/project/{project.pk}/admins/", f"/api/user/{owner.pk}/"]
    for route in BROWSABLE[1:]:
        if route == "users/":
            continue  # other users' records are not the owner's to see
        body = client_for(owner).get(f"/api/{route}").json()
        rows = body["results"] if isinstance(body, dict) and "results" in body else body
        if isinstance(rows, list) and rows:
            pages.append(rows[0]["url"])
    for page in pages:
        response = html.get(page)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/html"), page


def test_resource_assignments_are_builder_state(client, project_url):
    doc = hello_document()
    doc["workflow_jobs"][0]["input_ports"] = [{"label": "Text input", "type": "Text input", "id": 2}]
    workflow_url = client.post("/api/workflows/", {"project": project_url, "serialized": doc}, format="json").json()["url"]
    route = workflow_url + "resourceassignments/"
    port_url = client.get(f"/api/inputports/?workflow={workflow_url.rstrip('/').rsplit('/', 1)[1]}").json()["results"][0]["url"]
    assert client.get(route).json() == {port_url: []}
    first, second = upload(client, project_url, [named_file("a.txt", b"a"), named_file("b.txt", b"b")]).json()
    chosen = client.patch(route, {port_url: [second["url"], first["url"]]}, format="json")
    assert chosen.status_code == 200 and [r["name"] for r in chosen.json()[port_url]] == ["b", "a"]
    assert [r["name"] for r in client.get(route).json()[port_url]] == ["b", "a"]
    assert client.put(route, {}, format="json").json() == {port_url: []}
    client.patch(route, {port_url: [first["url"]]}, format="json")
    assert client.delete(route).json() == {port_url: []}
    unknown = client.patch(route, {port_url: ["http://testserver/api/resource/00000000-0000-0000-0000-000000000000/"]}, format="json")
    assert unknown.status_code == 404 and "detail" in unknown.json()
    assert client_for(make_user()).get(route).status_code == 404


def test_groups_import_a_workflow_and_seed_a_new_one(client, project_url):
    doc = hello_document()
    doc["workflow_jobs"][0]["input_ports"] = [{"label": "Text input", "type": "Text input", "id": 2}]
    origin = client.post("/api/workflows/", {"project": project_url, "serialized": doc}, format="json").json()
    target = client.post("/api/workflows/", {"project": project_url, "name": "target"}, format="json").json()
    body = {"workflow": target["url"], "origin": origin["url"]}
    assert client.post("/api/workflowjobgroups/", body, format="json").json() == {
        "origin": ["Origin workflow must be valid."]
    }
    client.patch(origin["url"], {"valid": True}, format="json")
    group = client.post("/api/workflowjobgroups/", body, format="json")
    assert group.status_code == 201, group.content
    assert group.json()["name"] == "From Workflow hello"
    jobs = client.get(target["url"]).json()["workflow_jobs"]
    assert len(jobs) == 1 and jobs[0]["group"] == group.json()["url"] and len(jobs[0]["input_ports"]) == 1
    assert client.patch(jobs[0]["url"], {"name": "renamed"}, format="json").status_code == 400  # grouped
    assert client.delete(jobs[0]["url"]).status_code == 400
    seeded = client.post("/api/workflows/", {"project": project_url, "workflow_job_group": group.json()["url"]}, format="json")
    assert seeded.status_code == 201 and seeded.json()["name"] == "From Workflow hello"
    assert len(client.get(seeded.json()["url"]).json()["workflow_jobs"]) == 1
    assert client.delete(group.json()["url"]).status_code == 204
    assert client.get(jobs[0]["url"]).json()["group"] is None  # deleting a group only ungroups


def test_results_packages_expire_and_cannot_be_deleted_while_building(client, owner, project_url):
    from datetime import timedelta

    from django.utils import timezone

    from rodan.packages import expire_packages, package_path
    from rodan.models import ResultsPackage

    workflow = client.post("/api/workflows/", {"project": project_url, "serialized": hello_document()}, format="json").json()
    client.patch(workflow["url"], {"valid": True}, format="json")
    run = client.post("/api/workflowruns/", {"workflow": workflow["url"], "resource_assignments": {}}, format="json").json()
    too_late = (timezone.now() + timedelta(days=31)).isoformat()
    refused = client.post(
        "/api/resultspackages/", {"workflow_run": run["url"], "packaging_mode": 0, "expiry_time": too_late}, format="json"
    )
    assert list(refused.json()) == ["expiry_time"]
    package = client.post("/api/resultspackages/", {"workflow_run": run["url"], "packaging_mode": 0}, format="json").json()
    assert package["status"] == 4 and package["expiry_time"] is not None  # non-staff get the 30-day default
    assert client.patch(package["url"], {"status": 9}, format="json").json() == {"status": ["Invalid status update"]}
    failed = client.post("/api/resultspackages/", {"workflow_run": run["url"], "packaging_mode": 2}, format="json").json()
    assert failed["status"] == -1 and failed["package_url"] is None
    stored = ResultsPackage.objects.get(pk=package["uuid"])
    assert package_path(stored).exists()
    assert expire_packages(timezone.now() + timedelta(days=31)) >= 1
    assert client.get(package["url"]).json()["status"] == 8 and not package_path(stored).exists()
    building = ResultsPackage.objects.create(workflow_run_id=run["uuid"], status=1)
    assert client.delete(f"/api/resultspackage/{building.pk}/").status_code == 400
    assert client.delete(package["url"]).status_code == 204


def test_options_on_every_route_the_client_asks(client):
    """After login the client sends OPTIONS to every root route but a few, and reads filter_fields."""
    skipped = {"auth-token", "auth-reset-token", "auth-register", "auth-change-password"}
    for name, url in client.get("/api/").json()["routes"].items():
        if name in skipped or name.startswith("taskqueue-"):
            continue
        response = client.options(url)
        assert response.status_code == 200, name
        assert isinstance(response.json()["filter_fields"], dict) and isinstance(response.json()["ordering_fields"], list)


def test_openapi_schema_describes_every_view_without_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--format", "openapi-json", "--file", str(tmp_path / "schema.json"))
    paths = json.loads((tmp_path / "schema.json").read_text())["paths"]
    assert {"/api/auth/token/", "/api/workflowruns/", "/api/interactive/{run_job_id}/acquire/"} <= set(paths)
    assert client_for().get("/api/schema/?format=json").status_code == 200


def test_upload_with_a_claimed_type_as_mimetype_or_url(client, project_url):
    json_type = client.get("/api/resourcetypes/?mimetype=application/json&disable_pagination=1").json()[0]
    by_url = upload(client, project_url, [named_file("a.dat", b"{}")], type=json_type["url"]).json()[0]
    assert by_url["resource_type"] == json_type["url"]
    by_name = upload(client, project_url, [named_file("b.dat", b"{}")], type="application/json").json()[0]
    assert by_name["resource_type"] == json_type["url"]
    unknown = upload(client, project_url, [named_file("c.dat", b"{}")], type="http://testserver/api/resourcetype/x/")
    assert unknown.status_code == 400 and list(unknown.json()) == ["type"]
