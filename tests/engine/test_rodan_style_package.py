"""A Rodan-style job package (tests/support/job_path/rodan_style) run on real workers through the REST API.

The package sits in a RODAN_JOB_PATH folder and is written as Rodan's own
packages are: ``module_loader`` with absolute ``rodan.jobs.rodan_style.*``
names, a relative import, ``import rodan``, Celery's task logger, a
``resource_types.yaml`` adding a type, ``job_queue`` inside the settings, an
enum setting, ports as tuples and lists, ``resource_types`` as a list and a
predicate, Pillow, NumPy, OpenCV and lxml.
"""

import io

import numpy
import pytest
import requests
from api_clients import PASSWORD, make_user
from builders import wait_for
from lxml import etree
from PIL import Image

pytestmark = pytest.mark.engine

THRESHOLD, SIZE = "Rodan style - Threshold", "Rodan style - Summary size"
OWN_TYPE = "application/x-rodan-style+xml"
WORKFLOW = {
    "__version__": 0.2,
    "name": "Rodan style",
    "description": "",
    "workflow_jobs": [
        {
            "job_name": THRESHOLD,
            "job_settings": {"Polarity": "Light ink on dark paper"},
            "input_ports": [{"label": "Page", "type": "Page", "id": 1}],
            "output_ports": [
                {"label": "One-bit page", "type": "One-bit page", "id": 2},
                {"label": "Summary", "type": "Summary", "id": 3},
            ],
            "appearance": {"x": 0, "y": 0},
        },
        {
            "job_name": SIZE,
            "job_settings": {},
            "input_ports": [{"label": "Summary", "type": "Summary", "id": 4}],
            "output_ports": [{"label": "Size", "type": "Size", "id": 5}],
            "appearance": {"x": 1, "y": 0},
        },
    ],
    "connections": [{"output_port": 3, "input_port": 4}],
}


def light_ink_page():
    """A dark page with a light block of "ink" in the middle."""
    pixels = numpy.full((60, 80), 30, numpy.uint8)
    pixels[20:40, 30:50] = 220
    buffer = io.BytesIO()
    Image.fromarray(pixels).convert("RGB").save(buffer, "PNG")
    return buffer.getvalue()


class Api:
    def __init__(self, base, user):
        self.base = base
        self.session = requests.Session()
        self.session.headers.update(Accept="application/json", Authorization=f"Token {user.auth_token.key}")

    def call(self, method, url, expected=200, **kwargs):
        url = url if url.startswith("http") else f"{self.base}/api/{url}"
        response = self.session.request(method, url, timeout=30, **kwargs)
        assert response.status_code == expected, f"{method} {url}: {response.status_code} {response.text}"
        return response.json() if "json" in response.headers.get("Content-Type", "") else response


def test_a_rodan_style_package_runs_on_workers_through_the_api(live_server, start_worker):
    user = make_user()
    assert user.check_password(PASSWORD)
    api = Api(live_server, user)

    health = api.call("GET", "ht/")
    assert "rodan.jobs.rodan_style" not in health["unavailable_job_families"] and not health["rejected_jobs"]
    (job,) = api.call("GET", "jobs/", params={"name": THRESHOLD})["results"]
    assert job["settings"]["job_queue"] == "Python3" and job["settings"]["properties"]["Polarity"]["enum"]
    (own_type,) = api.call("GET", "resourcetypes/", params={"mimetype": OWN_TYPE, "disable_pagination": 1})
    assert (own_type["description"], own_type["extension"]) == ("Page summary written by the Rodan-style test package", "rsx")

    project = api.call("POST", "projects/", 201, json={"name": "Rodan style"})
    (page,) = api.call(
        "POST", "resources/", 201, data={"project": project["url"]}, files=[("files", ("page.png", light_ink_page(), "image/png"))]
    )
    workflow = api.call("POST", "workflows/", 201, json={"project": project["url"], "serialized": WORKFLOW})
    workflow = api.call("PATCH", workflow["url"], json={"valid": True})
    (in_port,) = [p["url"] for p in workflow["workflow_input_ports"]]

    # Only a Python3 worker at first: the threshold (job_queue "Python3" in its settings) runs, the next job waits.
    python3_worker = start_worker(queues=("Python3",))
    run = api.call("POST", "workflowruns/", 201, json={"workflow": workflow["url"], "resource_assignments": {in_port: [page["url"]]}})

    def run_job(name):
        (row,) = api.call("GET", "runjobs/", params={"workflow_run": run["uuid"], "job_name": name})["results"]
        return row

    wait_for(lambda: run_job(THRESHOLD)["status"] == 4, timeout=90, what="the threshold on the Python3 worker")
    assert run_job(SIZE)["status"] != 4
    start_worker(queues=("celery",))
    wait_for(lambda: api.call("GET", run["url"])["status"] == 4, timeout=90, what="the run to finish")

    # The enum setting arrived as its index, logged with Celery's task logger on the Python3 worker.
    assert "rodan-style threshold: polarity index 1" in python3_worker.log_path.read_text(errors="replace")

    results = api.call("GET", "resources/", params={"result_of_workflow_run": run["uuid"], "no_page": ""})
    by_name = {r["name"]: r for r in results}
    onebit_name, size_name = f"{THRESHOLD} - One-bit page", f"{SIZE} - Size"
    assert set(by_name) == {onebit_name, size_name}
    onebit = Image.open(io.BytesIO(requests.get(by_name[onebit_name]["resource_file"], timeout=30).content))
    assert onebit.mode == "1" and onebit.size == (80, 60)
    ink = numpy.asarray(onebit)
    assert not ink[20:40, 30:50].any() and ink[:20].all()  # light ink made black, dark paper white
    assert requests.get(by_name[size_name]["resource_file"], timeout=30).text == "80x60"

    # The intermediate summary carries the package's own resource type.
    (summary,) = api.call("GET", "resources/", params={"project": project["uuid"], "resource_type": own_type["uuid"], "no_page": ""})
    document = etree.fromstring(requests.get(summary["resource_file"], timeout=30).content)
    assert (document.get("width"), document.get("height"), document.get("runtime")) == ("80", "60", "rodan")
    assert document.find("polarity").get("index") == "1" and document.find("ink").get("pixels") == str(20 * 20)
