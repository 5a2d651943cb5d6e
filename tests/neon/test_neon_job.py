"""Neon through a real worker: contract, wait, acquire, the page, bad submissions refused, edits submitted.

The submission is made as the page makes it: the line-by-line MEI the page
was given, edited (one nc moved a step up, a syllable's text changed), and
``Corrected`` is checked against the input with exactly those changes.
"""

import json
import re
from pathlib import Path

import pytest
import requests
from builders import graph_document, make_project, upload, valid_workflow, wait_for, wait_run
from lxml import etree

from rodan import storage
from rodan.engine.expansion import create_run
from rodan.jobs.registry import get_registry
from rodan.models import InputPort, RunJob
from rodan.models.status import RunJobStatus, RunStatus

pytestmark = pytest.mark.engine

JSON = {"Accept": "application/json"}
FIXTURES = Path(__file__).parent / "fixtures"
MEI = "{http://www.music-encoding.org/ns/mei}"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"


def test_contract_matches_rodan():
    job = get_registry().jobs["Neon"]
    assert (job.name, job.category, job.interactive, job.settings) == ("Neon", "Pitch Correction", True,
                                                                       {"job_queue": "Python3"})
    inputs = {p["name"]: (p["minimum"], p["maximum"], p.get("is_list", False)) for p in job.input_port_types}
    assert inputs == {"MEI": (1, 1, False), "Image": (1, 1, False)}
    assert job.input_port_types[0]["resource_types"] == ["application/mei+xml"]
    accepts = job.input_port_types[1]["resource_types"]
    assert accepts("image/rgb+png") and accepts("image/onebit+png") and not accepts("image/jpeg")
    assert [(p["name"], p["minimum"], p["maximum"], p["resource_types"]) for p in job.output_port_types] == [
        ("Corrected", 1, 1, ["application/mei+xml"])]


def _start(project, start_worker, mei_path, image_path):
    doc = graph_document({"neon": ("Neon", {}, {"MEI": None, "Image": None}, ["Corrected"])})
    workflow = valid_workflow(project, doc)
    assignments = {}
    for port in InputPort.objects.filter(workflow_job__workflow=workflow, extern=True):
        if port.input_port_type.name == "MEI":
            assignments[port] = [upload(project, mei_path, "folio 1 MEI", "application/mei+xml")]
        else:
            assignments[port] = [upload(project, image_path, "folio 1", "image/rgb+png")]
    start_worker()
    return create_run(workflow, assignments)


def _waiting(run):
    return wait_for(lambda: RunJob.objects.filter(workflow_run=run, status=RunJobStatus.WAITING_FOR_INPUT).first(),
                    what="Neon to wait for input")


def _acquire(live_server, run_job, user):
    response = requests.post(f"{live_server}/api/interactive/{run_job.pk}/acquire/", auth=(user.email, "pw"),
                             headers=JSON, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["working_url"]


def _config(page):
    found = re.search(r'<script id="neon-config" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(found.group(1))


def _tree(text):
    return etree.fromstring(text.encode(), etree.XMLParser(remove_blank_text=True))


def _shape(element):
    return (element.tag, dict(element.attrib), (element.text or "").strip(), [_shape(c) for c in element])


def _zone(root, ident):
    return root.find(f".//{MEI}zone[@{XML_ID}='{ident}']")


def _bad_submissions(lines):
    """(MEI text, sentence) of each class of bad submission, made from the page's own MEI."""
    def edited(change):
        root = _tree(lines)
        change(root)
        return etree.tostring(root, encoding="unicode")

    first_nc = lambda r: r.find(f".//{MEI}nc")  # noqa: E731
    return [
        ("<mei><unclosed>", "not well-formed XML"),
        ('<mei xmlns="urn:x"/>', "an MEI document has <mei>"),
        (edited(lambda r: first_nc(r).set("pname", "q")), 'pname="q"'),
        (edited(lambda r: first_nc(r).set("facs", "#zone-nowhere")), 'facs="#zone-nowhere", which is no zone'),
        (edited(lambda r: r.find(f".//{MEI}layer").append(first_nc(r))), "it must be inside <neume>"),
        (edited(lambda r: r.find(f".//{MEI}zone").set("lry", "99999")), "is not inside its surface"),
        (edited(lambda r: r.find(f".//{MEI}clef").set("shape", "G")), "a neume clef is C or F"),
    ]


def test_open_refuse_bad_then_submit_edits(start_worker, live_server, page_image):
    mei_path = FIXTURES / "gloria_mei4.mei"
    project = make_project()
    run = _start(project, start_worker, mei_path, page_image(mei_path))
    run_job = _waiting(run)
    url = _acquire(live_server, run_job, project.creator)
    page = requests.get(url, timeout=10)
    assert page.status_code == 200
    manifest = json.loads(re.search(r'window.manifestText = "(.*?)";', page.text).group(1).encode().decode(
        "unicode_escape"))
    assert manifest["title"] == "Rodan-generated Manifest" and manifest["mei_annotations"][0]["type"] == "Annotation"
    config = _config(page.text)
    assert (config["width"], config["height"]) == (1200, 600)
    lines = config["mei"]
    assert 'type="neon-neume-line"' in lines and "<sb " not in lines

    for body, sentence in [({"mei": "x"}, "user_input"), ({"user_input": ""}, "user_input")] + [
            ({"user_input": text}, sentence) for text, sentence in _bad_submissions(lines)]:
        response = requests.post(url, json=body, timeout=10)
        assert response.status_code == 400 and sentence in response.json()["detail"], (sentence, response.text)
    run_job.refresh_from_db()
    assert run_job.status == RunJobStatus.WAITING_FOR_INPUT

    # the page's edits: the second nc a step up (pitch and zone), the first syllable's text
    root = _tree(lines)
    nc = root.findall(f".//{MEI}nc")[1]
    assert (nc.get("pname"), nc.get("oct")) == ("b", "3")
    zone = _zone(root, nc.get("facs")[1:])
    nc.set("pname", "c")
    nc.set("oct", "4")
    zone.set("uly", str(int(zone.get("uly")) - 10))
    zone.set("lry", str(int(zone.get("lry")) - 10))
    root.find(f".//{MEI}syl").text = "Glo-"
    submitted = etree.tostring(root, encoding="unicode")
    response = requests.post(url, json={"user_input": submitted}, timeout=10)
    assert response.status_code == 200, response.text
    wait_run(run, {RunStatus.FINISHED})

    output = RunJob.objects.get(workflow_run=run).outputs.select_related("resource").get()
    assert output.output_port_type_name == "Corrected"
    corrected = _tree(Path(storage.absolute_path(output.resource)).read_text(encoding="utf-8"))
    expected = _tree(mei_path.read_text(encoding="utf-8"))
    e_nc = expected.findall(f".//{MEI}nc")[1]
    e_nc.set("pname", "c")
    e_nc.set("oct", "4")
    e_zone = _zone(expected, e_nc.get("facs")[1:])
    e_zone.set("uly", str(int(e_zone.get("uly")) - 10))
    e_zone.set("lry", str(int(e_zone.get("lry")) - 10))
    expected.find(f".//{MEI}syl").text = "Glo-"
    assert _shape(corrected) == _shape(expected)
    assert corrected.find(f".//{MEI}sb") is not None


def test_a_bad_input_mei_fails_the_job_with_its_problem(start_worker, page_image, tmp_path):
    source = FIXTURES / "alleluia_mei4.mei"
    broken = tmp_path / "broken.mei"
    broken.write_text(source.read_text(encoding="utf-8").replace('pname="c"', 'pname="z"', 1), encoding="utf-8")
    project = make_project()
    run = _start(project, start_worker, broken, page_image(source))
    wait_run(run, {RunStatus.FAILED})
    run_job = RunJob.objects.get(workflow_run=run)
    assert run_job.error_summary == "The input MEI cannot be corrected in Neon."
    assert 'pname="z"; a pitch name is a letter a to g' in run_job.error_details
