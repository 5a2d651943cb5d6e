"""Rodan's web client, replayed request by request (rodan-compat.md §8.1), on a live server and real workers.

The bodies are what the client sends: its Backbone models post JSON with every
default attribute, nulls included (a port is ``{"label": null, ...}``, a
workflow carries ``"description": null`` and empty collections), the login is
an unencoded form, and an upload is multipart with the literal
``label_names=undefined``. What the client reads back is checked the way it
uses it: UUIDs cut out of hyperlinks to find registry objects, a port's
label as a string, a result saved as ``<name>.<extension of its type>``.
"""

import io

import pytest
import requests
from api_clients import PASSWORD, client_for, make_user
from builders import wait_for
from django.test import Client

HELLO = "Hello World - Python3"
#: Route names the client looks up in ``GET /api/`` (§2.1).
CLIENT_ROUTES = (
    "projects workflows workflowjobs workflowjobgroups workflowruns runjobs jobs users userpreferences "
    "resultspackages connections outputporttypes outputports inputporttypes inputports resources labels "
    "resourcelists resource-archive resourcetypes outputs inputs taskqueue-active taskqueue-scheduled "
    "taskqueue-status auth-me auth-register auth-activate auth-resend-activation auth-token auth-reset-token "
    "auth-change-password auth-reset-password auth-reset-password-confirm"
).split()
#: Routes the client does not send OPTIONS to after logging in.
NO_OPTIONS = {"auth-token", "auth-reset-token", "auth-register", "auth-change-password"}


def uuid_in(url):
    """What the client's ``getResourceTypeUuid``/``getJobUuid`` cut out of a hyperlink."""
    return url.rstrip("/").rsplit("/", 1)[1]


class RodanClient:
    """The client in token mode: ``Accept: application/json`` and the token from the cookie on every call."""

    def __init__(self, base):
        self.base = base
        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"
        self.routes = {}

    def call(self, method, url, expected=200, **kwargs):
        url = url if url.startswith("http") else self.routes.get(url) or f"{self.base}/api/{url}"
        response = self.session.request(method, url, timeout=30, **kwargs)
        assert response.status_code == expected, f"{method} {url}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    def save(self, route, body, expected=201):
        """A new model's ``save()``: POST of all its attributes as JSON."""
        return self.call("POST", route, expected, json=body)

    def validate(self, workflow, expected):
        return self.call("PATCH", workflow["url"], expected, json={"valid": True})

    def login(self, email, password):
        # ControllerAuthentication._login: a hand-built form body, not URL-encoded.
        user = self.call(
            "POST", "auth-token", data=f"email={email}&password={password}",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        self.session.headers["Authorization"] = f"Token {user['token']}"
        return user


@pytest.mark.engine
def test_the_clients_requests_build_run_and_download_a_workflow(live_server, start_worker):
    person = make_user()
    client = RodanClient(live_server)
    start_worker()

    # Boot and login (§8.1 steps 1-2).
    root = client.call("GET", f"{live_server}/api/")
    assert set(CLIENT_ROUTES) <= set(root["routes"]) and root["version"].lstrip("v").split(".")[0] == "3"
    client.routes = root["routes"]
    user = client.login(person.email, PASSWORD)
    assert user["email"] == person.email and user["url"].startswith("http")
    for name, url in root["routes"].items():
        if name not in NO_OPTIONS and not name.startswith("taskqueue-"):
            options = client.call("OPTIONS", url)
            assert isinstance(options.get("filter_fields", {}), dict), name
    client.call("GET", "projects")
    globals_ = {
        name: client.call("GET", name, params={"disable_pagination": "true", **extra})
        for name, extra in [
            ("inputporttypes", {}), ("outputporttypes", {}), ("resourcetypes", {}), ("labels", {}),
            ("jobs", {"enabled": "True"}),
        ]
    }
    assert all(isinstance(rows, list) for rows in globals_.values())
    resource_types = {t["uuid"]: t for t in globals_["resourcetypes"]}
    jobs = {j["uuid"]: j for j in globals_["jobs"]}
    # The builder matches ports by comparing resource type URLs as strings.
    type_urls = {t["url"] for t in resource_types.values()}
    for port_type in globals_["inputporttypes"] + globals_["outputporttypes"]:
        assert set(port_type["resource_types"]) <= type_urls, port_type["url"]
    # Every 60 s: HEAD /api/ for the server's time.
    assert client.session.head(f"{live_server}/api/", timeout=30).headers["Date"]
    # The user preference: looked up with the user's (absent) id, then created.
    assert client.call("GET", "userpreferences", params={"user": ""})["results"] == []
    client.save("userpreferences", {"user": user["url"]})
    # At the next login the same lookup finds it, comparing the user's URL as a string.
    (preference,) = client.call("GET", "userpreferences", params={"user": ""})["results"]
    assert preference["user"] == user["url"] == client.call("GET", "auth-me")["url"]

    # Project (step 3): the model's defaults, the logged-in user as its creator.
    project = client.save(
        "projects",
        {"creator": user, "created": None, "updated": None, "workflow_count": None, "resource_count": None,
         "name": "untitled"},
    )
    project = client.call("GET", project["url"])
    assert client.call("GET", project["admins_url"]) == [person.username]
    assert client.call("GET", project["workers_url"]) == []
    # Project users: a form whose keys are the usernames; removing the last worker sends an empty form.
    colleague = make_user()
    form = {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"}
    workers = client.call("PUT", project["workers_url"], data=f"{colleague.username}={colleague.username}", headers=form)
    assert workers == [colleague.username]
    found = client.call("GET", "users", params={"username__in": ",".join(workers)})
    assert [u["username"] for u in found] == workers
    assert client.call("PUT", project["workers_url"], data="", headers=form) == []
    # The user dialog saves through auth/me as a form too.
    me = client.call("PATCH", "auth-me", data="first_name=Ada&last_name=Lovelace", headers=form)
    assert (me["first_name"], me["last_name"]) == ("Ada", "Lovelace")

    # Upload (step 4): one multipart POST per file, the chosen type as a URL, label_names "undefined".
    text_type = next(t for t in resource_types.values() if t["mimetype"] == "text/plain")
    (folio,) = client.call(
        "POST", "resources", 201,
        data={"project": project["url"], "label_names": "undefined", "type": text_type["url"]},
        files={"files": ("folio.txt", b"from folio 3", "text/plain")},
    )
    assert folio["name"] == "folio" and folio["labels"] == []
    listed = client.call("GET", "resources", params={"project": project["uuid"], "page": 1, "ordering": "-created"})
    assert [r["url"] for r in listed["results"]] == [folio["url"]]

    # Builder (step 5): a new workflow, opened, validated (409 while empty).
    workflow = client.save(
        "workflows",
        {"description": None, "name": "untitled", "created": None, "updated": None, "valid": False,
         "project": project["url"], "workflow_connections": [], "workflow_input_ports": [],
         "workflow_output_ports": [], "workflow_jobs": [], "workflow_runs": []},
    )
    workflow = client.call("GET", workflow["url"])
    assignments_url = f"{live_server}/api/workflow/{workflow['uuid']}/resourceassignments/"
    assert client.call("GET", assignments_url) == {}
    assert client.call("GET", "workflowjobgroups", params={"workflow": workflow["uuid"]})["results"] == []
    assert client.validate(workflow, 409)["error_code"] == "WF_EMPTY"

    hello = next(j for j in jobs.values() if j["name"] == HELLO)

    def add_job(x):
        """Add a job, then ``minimum`` ports of each of its types, each with ``"label": null``; then validate."""
        wfj = client.save(
            "workflowjobs",
            {"input_ports": [], "output_ports": [], "job": hello["url"], "workflow": workflow["url"],
             "appearance": {"x": x, "y": 0.5}},
        )
        assert jobs[uuid_in(wfj["job"])] == hello  # WorkflowJob.getJobUuid
        for kind in ("input", "output"):
            for port_type in hello[f"{kind}_port_types"]:
                for _ in range(port_type["minimum"]):
                    body = {"label": None, f"{kind}_port_type": port_type["url"], "workflow_job": wfj["url"]}
                    port = client.save(f"{kind}ports", body)
                    assert port["label"] == port_type["name"]
        return wfj

    def add_input_port(wfj):
        """The ports dialog: one more input port, again ``"label": null``."""
        (port_type,) = hello["input_port_types"]
        port = client.save("inputports", {"label": None, "input_port_type": port_type["url"], "workflow_job": wfj["url"]})
        assert port["label"] == "Text input"
        return port

    first = add_job(0.2)
    assert client.validate(workflow, 200)["valid"] is True
    first_in = add_input_port(first)
    client.validate(workflow, 200)
    second = add_job(0.8)
    second_in = add_input_port(second)
    assert client.validate(workflow, 409)["error_code"] == "WF_NOT_CONNECTED"

    # Connect, re-GET both ports, validate.
    first_out = client.call("GET", "outputports", params={"workflow_job": first["uuid"]})["results"][0]
    connection = client.save(
        "connections", {"input_port": second_in["url"], "output_port": first_out["url"]}
    )
    assert client.call("GET", second_in["url"])["connections"] == [connection["url"]]
    assert client.call("GET", first_out["url"])["connections"] == [connection["url"]]
    workflow = client.validate(workflow, 200)
    assert [p["url"] for p in workflow["workflow_input_ports"]] == [first_in["url"]]

    # Assign: the resources of the port's types, then PUT the assignments.
    (port_type,) = [t for t in globals_["inputporttypes"] if t["url"] == first_in["input_port_type"]]
    type_uuids = ",".join(uuid_in(url) for url in port_type["resource_types"])
    assert set(uuid_in(url) for url in port_type["resource_types"]) <= set(resource_types)

    def assignable():
        rows = client.call("GET", "resources", params={"project": project["uuid"], "resource_type__in": type_uuids})
        return [r for r in rows["results"] if r["resource_file"]]

    (folio,) = wait_for(assignable, timeout=60, what="the upload to be stored and typed")
    assert resource_types[uuid_in(folio["resource_type"])]["mimetype"] == "text/plain"  # Resource.resource_type_full
    assigned = client.call("PUT", assignments_url, json={first_in["url"]: [folio["url"]]})
    assert [r["url"] for r in assigned[first_in["url"]]] == [folio["url"]]

    # Run (step 6).
    run = client.save(
        "workflowruns",
        {"created": None, "updated": None, "statusText": "Unknown status", "workflow": workflow["url"],
         "resource_assignments": {first_in["url"]: [folio["url"]]}, "name": workflow["name"],
         "description": f'Run of Workflow "{workflow["name"]}"\n\n- {folio["url"]}\n\n'},
    )
    assert run["status"] in (1, 21)

    # Monitor (step 7): poll the project's runs, newest first, then the run's jobs and results.
    def newest_finished():
        newest = client.call("GET", "workflowruns", params={"project": project["uuid"], "ordering": "-created"})
        assert newest["results"][0]["url"] == run["url"] and newest["results"][0]["status"] != -1
        return newest["results"][0]["status"] == 4

    wait_for(newest_finished, timeout=120, what="the run to finish")
    run_jobs = client.call("GET", "runjobs", params={"workflow_run": run["uuid"]})["results"]
    assert [rj["status"] for rj in run_jobs] == [4, 4] and {rj["job_name"] for rj in run_jobs} == {HELLO}
    (result,) = client.call("GET", "resources", params={"result_of_workflow_run": run["uuid"]})["results"]

    # Download: the file without auth, saved as <name>.<extension of its type>.
    extension = resource_types[uuid_in(result["resource_type"])]["extension"]
    assert f"{result['name']}.{extension}".endswith(".txt")
    assert requests.get(result["resource_file"], timeout=30).text == "Hello World Hello World from folio 3"

    # Logout (step 8): the token is gone.
    assert client.call("POST", "auth-reset-token", 204) is None
    client.call("GET", "auth-me", 401)


@pytest.mark.parametrize("kind", ["input", "output"])
def test_a_port_without_a_label_is_called_after_its_type(kind):
    """Null, empty or missing ``label``, on create or update, JSON or form: the type's name (§2.8)."""
    client = client_for(make_user())
    project = client.post("/api/projects/", {"name": "labels"}, format="json").json()
    workflow = client.post("/api/workflows/", {"project": project["url"], "name": "w"}, format="json").json()
    job = client.get("/api/jobs/", {"name": HELLO}).json()["results"][0]
    wfj = client.post("/api/workflowjobs/", {"workflow": workflow["url"], "job": job["url"]}, format="json").json()
    port_type = job[f"{kind}_port_types"][0]
    route, type_field = f"/api/{kind}ports/", f"{kind}_port_type"
    base = {type_field: port_type["url"], "workflow_job": wfj["url"]}

    for body, encoding in [({**base, "label": None}, "json"), ({**base, "label": ""}, "multipart"), (base, "json")]:
        created = client.post(route, body, format=encoding)
        assert created.status_code == 201, created.content
        assert created.json()["label"] == port_type["name"]
    named = client.post(route, {**base, "label": "mine"}, format="json").json()
    assert named["label"] == "mine"
    assert client.patch(named["url"], {"label": None}, format="json").json()["label"] == port_type["name"]
    client.patch(named["url"], {"label": "again"}, format="json")
    assert client.put(named["url"], {**base, "label": ""}, format="json").json()["label"] == port_type["name"]
    assert client.patch(named["url"], {"label": 12}, format="json").json()["label"] == "12"


def test_an_imported_port_without_a_label_is_called_after_its_type():
    client = client_for(make_user())
    project = client.post("/api/projects/", {"name": "import"}, format="json").json()
    document = {
        "__version__": 0.2, "name": "hello", "description": "", "connections": [],
        "workflow_jobs": [{
            "job_name": HELLO, "job_settings": {}, "appearance": {"x": 0, "y": 0},
            "input_ports": [{"label": "", "type": "Text input", "id": 1}],
            "output_ports": [{"label": "", "type": "Text output", "id": 2}],
        }],
    }
    workflow = client.post("/api/workflows/", {"project": project["url"], "serialized": document}, format="json").json()
    (wfj,) = client.get(workflow["url"]).json()["workflow_jobs"]
    assert [p["label"] for p in wfj["input_ports"] + wfj["output_ports"]] == ["Text input", "Text output"]


@pytest.mark.parametrize("accept", [None, "*/*", "text/html", "text/html,application/xhtml+xml,*/*;q=0.8", "application/json"])
def test_the_token_route_answers_json_whatever_accept(accept):
    """README's curl example sends no Accept header; browsers send text/html first (§1 Auth)."""
    person = make_user()
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    browser = Client(**headers)
    ok = browser.post("/api/auth/token/", {"email": person.email, "password": PASSWORD})
    assert ok.status_code == 200 and ok["Content-Type"] == "application/json"
    assert ok.json()["token"] == person.auth_token.key
    missing = browser.post("/api/auth/token/", {"password": PASSWORD})
    assert missing.status_code == 401 and missing["Content-Type"] == "application/json"
    assert missing.json() == {"is_logged_in": False, "detail": "You must supply an email."}
    wrong_method = browser.get("/api/auth/token/")
    assert wrong_method.status_code == 405 and wrong_method["Content-Type"] == "application/json"
    suffixed = browser.post("/api/auth/token.html", {"email": person.email, "password": PASSWORD})
    assert suffixed.status_code == 200 and suffixed.json()["token"] == person.auth_token.key


def test_a_resource_list_as_the_client_posts_it_takes_its_resources_project():
    """For an ``is_list`` port the client posts ``{resources, resource_type}`` only (§5.2)."""
    owner = make_user()
    client = client_for(owner)
    project = client.post("/api/projects/", {"name": "lists"}, format="json").json()
    pages = client.post(
        "/api/resources/", {"project": project["url"], "files": [_named("a.txt"), _named("b.txt")], "type": "text/plain"},
        format="multipart",
    ).json()
    body = {"creator": {"first_name": None, "last_name": None, "username": None}, "created": None, "updated": None,
            "resources": [p["url"] for p in pages], "resource_type": pages[0]["resource_type"]}
    created = client.post("/api/resourcelists/", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["project"] == project["url"]
    assert created.json()["resources"] == [p["url"] for p in pages]
    assert client.post("/api/resourcelists/", {"resources": []}, format="json").json() == {
        "project": ["This field is required."]
    }
    outsider = client_for(make_user())
    refused = outsider.post("/api/resourcelists/", body, format="json")
    assert refused.status_code == 400 and "resources" in refused.json()


def _named(name):
    handle = io.BytesIO(b"text")
    handle.name = name
    return handle
