"""The REST API end to end, as a script drives it, on a live server and real workers.

Log in, create a project, upload five page images, import a workflow, run it
over the five pages while watching the project's event stream, complete the
hello-world interactive job through its endpoints, and download the outputs
and a results package.
"""

import io
import json
import zipfile

import pytest
import requests
from api_clients import PASSWORD, make_user
from builders import chain_document, wait_for
from PIL import Image

pytestmark = pytest.mark.engine

GREYSCALE = chain_document([{}], "To greyscale PNG", "Image", "Greyscale PNG image", name="Greyscale pages")
HELLO = {
    "__version__": 0.2,
    "name": "Say hello",
    "description": "",
    "workflow_jobs": [
        {
            "job_name": "Hello World - Interactive",
            "job_settings": {},
            "input_ports": [],
            "output_ports": [{"label": "Text output", "type": "Text output", "id": 1}],
        }
    ],
    "connections": [],
}


def page_png(index):
    buffer = io.BytesIO()
    Image.new("RGB", (40 + index, 30), (40 * index, 100, 200)).save(buffer, "PNG")
    return buffer.getvalue()


class Api:
    """A script's view of the API: JSON in and out, with the token from logging in."""

    def __init__(self, base):
        self.base = base
        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"

    def login(self, email, password):
        response = self.session.post(f"{self.base}/api/auth/token/", data={"email": email, "password": password})
        assert response.status_code == 200, response.text
        self.session.headers["Authorization"] = f"Token {response.json()['token']}"

    def call(self, method, url, expected=200, **kwargs):
        url = url if url.startswith("http") else f"{self.base}/api/{url}"
        response = self.session.request(method, url, timeout=30, **kwargs)
        assert response.status_code == expected, f"{method} {url}: {response.status_code} {response.text}"
        return response.json() if response.content and "json" in response.headers["Content-Type"] else response


def watch_events(api, project, run_url, seen):
    """Read the project's event stream until ``run_url`` reports Finished (4)."""
    with api.session.get(
        f"{project['url']}events/", headers={"Accept": "text/event-stream"}, stream=True, timeout=120
    ) as stream:
        assert stream.status_code == 200 and stream.headers["Content-Type"].startswith("text/event-stream")
        kind = None
        for line in stream.iter_lines(decode_unicode=True):
            if line.startswith("event: "):
                kind = line[len("event: "):]
            elif line.startswith("data: "):
                payload = json.loads(line[len("data: "):])
                seen.append((kind, payload))
                if kind == "workflowrun" and payload["url"] == run_url and payload["status"] in (4, -1):
                    return payload["status"]
    raise AssertionError("the event stream ended before the run finished")


def test_script_drives_a_batch_and_an_interactive_run(live_server, start_worker):
    user = make_user()
    api = Api(live_server)
    api.login(user.email, PASSWORD)
    project = api.call("POST", "projects/", 201, json={"name": "Five pages"})

    files = [("files", (f"page{i}.png", page_png(i), "image/png")) for i in range(1, 6)]
    pages = api.call("POST", "resources/", 201, data={"project": project["url"]}, files=files)
    assert [p["name"] for p in pages] == [f"page{i}" for i in range(1, 6)]
    rgb = api.call("GET", "resourcetypes/?mimetype=image/rgb%2Bpng&disable_pagination=1")[0]
    assert {p["resource_type"] for p in pages} == {rgb["url"]}

    workflow = api.call("POST", "workflows/", 201, json={"project": project["url"], "serialized": GREYSCALE})
    workflow = api.call("PATCH", workflow["url"], json={"valid": True})
    in_port = workflow["workflow_input_ports"][0]["url"]
    start_worker()
    run = api.call(
        "POST",
        "workflowruns/",
        201,
        json={
            "workflow": workflow["url"],
            "resource_assignments": {in_port: [p["url"] for p in pages]},
            "name": "Greyscale",
            "description": "five pages",
        },
    )
    seen = []
    assert watch_events(api, project, run["url"], seen) == 4
    run_jobs = api.call("GET", f"runjobs/?workflow_run={run['uuid']}")
    assert run_jobs["count"] == 5 and {rj["status"] for rj in run_jobs["results"]} == {4}
    streamed = {payload["url"] for kind, payload in seen if kind == "runjob" and payload["status"] == 4}
    assert streamed == {rj["url"] for rj in run_jobs["results"]}  # the stream told of every RunJob

    results = api.call("GET", f"resources/?result_of_workflow_run={run['uuid']}&no_page")
    assert sorted(r["name"] for r in results) == [f"page{i}" for i in range(1, 6)]
    for result in results:
        image = Image.open(io.BytesIO(requests.get(result["resource_file"], timeout=30).content))
        assert image.mode == "L" and image.size[1] == 30

    package = api.call("POST", "resultspackages/", 201, json={"workflow_run": run["url"], "packaging_mode": 0})
    package = api.call("GET", package["url"])
    assert package["status"] == 4 and "/uploads//results_packages/" in package["package_url"]
    bag = zipfile.ZipFile(io.BytesIO(requests.get(package["package_url"], timeout=30).content))
    names = bag.namelist()
    assert "bagit.txt" in names and "manifest-md5.txt" in names
    assert sorted(n for n in names if n.startswith("data/")) == [
        f"data/To greyscale PNG - Greyscale PNG image/page{i}.png" for i in range(1, 6)
    ]

    hello = api.call("POST", "workflows/", 201, json={"project": project["url"], "serialized": HELLO})
    api.call("PATCH", hello["url"], json={"valid": True})
    hello_run = api.call("POST", "workflowruns/", 201, json={"workflow": hello["url"], "resource_assignments": {}})

    def waiting():
        rows = api.call("GET", f"runjobs/?workflow_run={hello_run['uuid']}&status=2")["results"]
        return rows[0] if rows else None

    run_job = wait_for(waiting, timeout=60, what="the interactive job to wait for input")
    acquired = api.call("POST", run_job["interactive_acquire"])
    page = requests.get(acquired["working_url"], timeout=30)
    assert page.status_code == 200 and "hello-form" in page.text
    assert requests.post(acquired["working_url"], json={"name": "Ada"}, timeout=30).status_code == 200

    def finished():
        return api.call("GET", hello_run["url"])["status"] == 4

    wait_for(finished, timeout=60, what="the interactive run to finish")
    greeting = api.call("GET", f"resources/?result_of_workflow_run={hello_run['uuid']}&no_page")[0]
    assert greeting["name"] == "Hello World - Interactive - Text output"
    assert requests.get(greeting["resource_file"], timeout=30).text == "Hello Ada"


def test_rodan_e2e_sequence_with_basic_auth(live_server, start_worker):
    """Rodan's own browser e2e test, as its API calls (rodan-compat.md §8.2), with Basic auth and ?format=json."""
    user = make_user()
    session = requests.Session()
    session.auth = (user.email, PASSWORD)

    def call(method, url, expected=200, **kwargs):
        url = url if url.startswith("http") else f"{live_server}/api/{url}"
        response = session.request(method, url, timeout=30, **kwargs)
        assert response.status_code == expected, f"{method} {url}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    project = call("POST", "projects/?format=json", 201, json={"name": "untitled"})
    for leftover in call("GET", "workflows/?format=json")["results"]:
        call("DELETE", leftover["url"], 204)
    workflow = call("POST", "workflows/?format=json", 201, json={"project": project["url"], "name": "untitled"})
    job = call("GET", "jobs/?format=json&enabled=True&name__icontains=hello")["results"]
    hello = next(j for j in job if j["name"] == "Hello World - Python3")
    wfj = call(
        "POST", "workflowjobs/?format=json", 201,
        json={"job": hello["url"], "workflow": workflow["url"], "appearance": {"x": 10, "y": 20}},
    )
    output_type = next(t for t in hello["output_port_types"] if t["name"] == "Text output")
    port = call(
        "POST", "outputports/?format=json", 201,
        json={"label": None, "workflow_job": wfj["url"], "output_port_type": output_type["url"]},
    )
    assert port["label"] == "Text output"  # the client sends "label": null on every port it creates
    assert call("PATCH", workflow["url"], json={"valid": True})["valid"] is True
    start_worker()
    run = call(
        "POST", "workflowruns/?format=json", 201,
        json={"workflow": workflow["url"], "resource_assignments": {}, "name": "untitled", "description": "Run of Workflow"},
    )
    newest = lambda: call("GET", f"workflowruns/?format=json&project={project['uuid']}&ordering=-created")["results"][0]  # noqa: E731
    wait_for(lambda: newest()["status"] == 4, timeout=30, what="the run to show Finished")
    results = call("GET", f"resources/?format=json&result_of_workflow_run={run['uuid']}&ordering=-created")["results"]
    text_type = call("GET", results[0]["resource_type"])
    assert f"{results[0]['name']}.{text_type['extension']}" == "Hello World - Python3 - Text output.txt"
    assert requests.get(results[0]["resource_file"], timeout=30).text == "Hello World"
