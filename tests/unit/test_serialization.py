"""Workflow export and import (rodan-compat.md §5.1)."""

import copy
import json

import pytest
from builders import make_project

from rodan.engine.serialization import SerializationError, export_workflow, import_workflow
from rodan.engine.validation import validate_workflow
from rodan.models import Connection, InputPort, OutputPort, Workflow, WorkflowJob

STEP = "Test - Text step"
JOIN = "Test - Join texts"
LABELER = "Labeler"
HELLO = "Hello World - Python3"


def canonical(doc):
    """The document without its ids: ports by (label, type), connections by job index and label."""
    where = {}
    jobs = []
    for index, entry in enumerate(doc["workflow_jobs"]):
        ports = {}
        for key in ("input_ports", "output_ports"):
            ports[key] = sorted((p["label"], p["type"]) for p in entry[key])
            for port in entry[key]:
                where[(key, port["id"])] = (index, port["label"])
        jobs.append((entry["job_name"], json.dumps(entry["job_settings"], sort_keys=True), ports, entry.get("appearance")))
    connections = sorted(
        (where[("output_ports", c["output_port"])], where[("input_ports", c["input_port"])]) for c in doc["connections"]
    )
    return doc["__version__"], doc["name"], doc["description"], jobs, connections


def build_sample(wfb):
    """Three jobs: a text step feeding a text step (two outputs) feeding a labeler, with labels and appearance."""
    first = wfb.job(STEP, {"Tag": "first", "Mode": "upper"}, inputs=[], outputs=[], appearance={"x": 10, "y": 20})
    wfb.inport(first, label="page in")
    first_out = wfb.outport(first, label="first out")
    second = wfb.job(STEP, {"Tag": "second", "Sleep": 1.5}, inputs=[], outputs=[], appearance={"x": 30.5, "y": -4})
    second_in = wfb.inport(second, label="second in")
    second_out_a = wfb.outport(second, label="second out A")
    wfb.outport(second, label="second out B")
    labeler = wfb.job(LABELER, {"Label": "done"}, inputs=[], outputs=[])
    label_in = wfb.inport(labeler, label="label me")
    wfb.inport(labeler, label="open label port")
    wfb.connect(first_out, second_in)
    wfb.connect(second_out_a, label_in)
    wfb.workflow.name = "sample"
    wfb.workflow.description = "a sample workflow"
    wfb.workflow.save()
    return first, second, labeler


def test_export_document_shape(wfb):
    build_sample(wfb)
    doc = export_workflow(wfb.workflow)
    assert doc["__version__"] == 0.2
    assert doc["name"] == "sample" and doc["description"] == "a sample workflow"
    assert [j["job_name"] for j in doc["workflow_jobs"]] == [STEP, STEP, LABELER]
    first, second, labeler = doc["workflow_jobs"]
    assert first["job_settings"] == {"Tag": "first", "Mode": "upper"}
    assert first["appearance"] == {"x": 10, "y": 20} and second["appearance"] == {"x": 30.5, "y": -4}
    assert labeler["appearance"] == {"x": 0.5, "y": 0.5}  # the model default
    assert [p["label"] for p in first["input_ports"]] == ["page in"]
    assert sorted(p["label"] for p in second["output_ports"]) == ["second out A", "second out B"]
    assert {p["type"] for p in labeler["input_ports"]} == {"Resource"}
    json.dumps(doc)  # plain JSON


def test_export_ids_number_inputs_then_outputs_per_job_from_one(wfb):
    build_sample(wfb)
    doc = export_workflow(wfb.workflow)
    sequence = [
        port["id"] for entry in doc["workflow_jobs"] for key in ("input_ports", "output_ports") for port in entry[key]
    ]
    assert sequence == list(range(1, 8))
    first, second, labeler = doc["workflow_jobs"]
    assert [p["id"] for p in first["input_ports"]] == [1] and [p["id"] for p in first["output_ports"]] == [2]
    assert [p["id"] for p in second["input_ports"]] == [3]
    assert sorted(p["id"] for p in second["output_ports"]) == [4, 5]
    assert sorted(p["id"] for p in labeler["input_ports"]) == [6, 7]
    ids = {p["label"]: p["id"] for e in doc["workflow_jobs"] for k in ("input_ports", "output_ports") for p in e[k]}
    assert sorted((c["output_port"], c["input_port"]) for c in doc["connections"]) == sorted(
        [(ids["first out"], ids["second in"]), (ids["second out A"], ids["label me"])]
    )


def test_export_null_description_becomes_empty_string(wfb):
    wfb.job(STEP)
    wfb.workflow.description = None
    wfb.workflow.save()
    assert export_workflow(wfb.workflow)["description"] == ""


def test_round_trip_preserves_everything(wfb):
    build_sample(wfb)
    doc = export_workflow(wfb.workflow)
    target = make_project()
    imported = import_workflow(target, copy.deepcopy(doc), creator=target.creator)

    assert imported.project == target and imported.creator == target.creator
    assert imported.name == "sample" and imported.description == "a sample workflow"
    assert imported.valid is False and Workflow.objects.get(pk=imported.pk).valid is False
    assert canonical(export_workflow(imported)) == canonical(doc)
    assert WorkflowJob.objects.filter(workflow=imported).count() == 3
    assert Connection.objects.filter(input_port__workflow_job__workflow=imported).count() == 2
    # the copy is a real, valid workflow once validated
    validate_workflow(imported)
    extern = set(InputPort.objects.filter(workflow_job__workflow=imported, extern=True).values_list("label", flat=True))
    assert extern == {"page in", "open label port"}


def test_imported_rows_match_the_document(wfb):
    build_sample(wfb)
    imported = import_workflow(make_project(), export_workflow(wfb.workflow))
    jobs = list(imported.workflow_jobs.order_by("created"))
    assert [j.job_settings.get("Tag") for j in jobs] == ["first", "second", None]
    assert [j.appearance for j in jobs] == [{"x": 10, "y": 20}, {"x": 30.5, "y": -4}, {"x": 0.5, "y": 0.5}]
    assert jobs[0].name == STEP  # the job name after its last "." (there is none)
    connection = Connection.objects.get(input_port__label="second in", input_port__workflow_job__workflow=imported)
    assert connection.output_port.label == "first out" and connection.output_port.workflow_job == jobs[0]
    assert connection.input_port.workflow_job == jobs[1]
    out_a = OutputPort.objects.get(workflow_job=jobs[1], label="second out A")
    assert out_a.connections.get().input_port.label == "label me"
    assert not OutputPort.objects.get(workflow_job=jobs[1], label="second out B").connections.exists()


def test_import_name_override_and_truncation():
    project = make_project()
    doc = minimal_doc()
    assert import_workflow(project, doc, name="renamed").name == "renamed"
    doc["name"] = "n" * 150
    assert import_workflow(project, doc).name == "n" * 100


def test_empty_workflow_round_trips(wfb):
    doc = export_workflow(wfb.workflow)
    assert doc["workflow_jobs"] == [] and doc["connections"] == []
    imported = import_workflow(make_project(), doc)
    assert not imported.workflow_jobs.exists()


# -- import of version 0.1 and missing appearance ------------------------------


def minimal_doc(version=0.2, appearance=True):
    job = {
        "job_name": STEP,
        "job_settings": {"Tag": "x"},
        "input_ports": [{"label": "in", "type": "Text input", "id": 1}],
        "output_ports": [{"label": "out", "type": "Text output", "id": 2}],
    }
    second = {
        "job_name": STEP,
        "job_settings": {},
        "input_ports": [{"label": "in2", "type": "Text input", "id": 3}],
        "output_ports": [{"label": "out2", "type": "Text output", "id": 4}],
    }
    if appearance:
        job["appearance"] = {"x": 1, "y": 2}
        second["appearance"] = {"x": 3, "y": 4}
    return {
        "__version__": version,
        "name": "minimal",
        "description": "",
        "workflow_jobs": [job, second],
        "connections": [{"output_port": 2, "input_port": 3}],
    }


@pytest.mark.parametrize("version", [0.1, 0.2])
def test_missing_appearance_defaults_to_centre(version):
    imported = import_workflow(make_project(), minimal_doc(version, appearance=False))
    assert [j.appearance for j in imported.workflow_jobs.order_by("created")] == [{"x": 0.5, "y": 0.5}] * 2
    assert Connection.objects.filter(input_port__workflow_job__workflow=imported).count() == 1


def test_version_0_1_imports_jobs_and_connections():
    imported = import_workflow(make_project(), minimal_doc(0.1, appearance=False))
    validate_workflow(imported)
    centre = {"x": 0.5, "y": 0.5}
    _, name, _, jobs, connections = canonical(export_workflow(imported))
    assert name == "minimal"
    assert jobs == [
        (STEP, json.dumps({"Tag": "x"}), {"input_ports": [("in", "Text input")], "output_ports": [("out", "Text output")]}, centre),
        (STEP, json.dumps({}), {"input_ports": [("in2", "Text input")], "output_ports": [("out2", "Text output")]}, centre),
    ]
    assert connections == [((0, "out"), (1, "in2"))]


def test_input_and_output_may_share_an_id():
    doc = minimal_doc()
    doc["workflow_jobs"][0]["output_ports"][0]["id"] = 1  # same number as the first input
    doc["connections"] = [{"output_port": 1, "input_port": 3}]
    imported = import_workflow(make_project(), doc)
    connection = Connection.objects.get(input_port__workflow_job__workflow=imported)
    assert connection.output_port.label == "out" and connection.input_port.label == "in2"


# -- import errors -------------------------------------------------------------


def import_error(doc):
    """Import ``doc`` into a fresh project; assert it wrote nothing; return the error detail."""
    project = make_project()
    workflows, jobs = Workflow.objects.filter(project=project).count(), WorkflowJob.objects.count()
    with pytest.raises(SerializationError) as caught:
        import_workflow(project, doc)
    assert Workflow.objects.filter(project=project).count() == workflows == 0
    assert WorkflowJob.objects.filter(workflow__project=project).count() == 0
    assert WorkflowJob.objects.count() == jobs
    return caught.value.detail


def with_change(change):
    doc = minimal_doc()
    change(doc)
    return doc


@pytest.mark.parametrize("doc", [[], "text", 3, None])
def test_not_an_object(doc):
    assert import_error(doc) == "This field must be a JSON object."


def test_missing_version():
    doc = minimal_doc()
    del doc["__version__"]
    assert import_error(doc) == "Please provide the version of serialization format."


@pytest.mark.parametrize("version", [0.3, 1, "0.2x"])
def test_unsupported_version(version):
    assert import_error(minimal_doc(version)) == f"Unsupported version of serialization format: {version}"


def test_unknown_job():
    doc = with_change(lambda d: d["workflow_jobs"][1].update(job_name="X"))
    assert import_error(doc) == {"workflow_jobs[1].job_name": "Job X does not exist in current Rodan installation."}


def test_unknown_port_type():
    doc = with_change(lambda d: d["workflow_jobs"][0]["output_ports"][0].update(type="Image output"))
    detail = import_error(doc)
    assert list(detail) == ["workflow_jobs[0].output_ports[0].type"]
    assert "Image output" in detail["workflow_jobs[0].output_ports[0].type"]


def test_port_type_of_the_wrong_direction_is_unknown():
    doc = with_change(lambda d: d["workflow_jobs"][0]["input_ports"][0].update(type="Text output"))
    assert list(import_error(doc)) == ["workflow_jobs[0].input_ports[0].type"]


def test_duplicate_input_port_id():
    doc = with_change(lambda d: d["workflow_jobs"][1]["input_ports"][0].update(id=1))
    assert import_error(doc) == {"workflow_jobs[1].input_ports[0].id": "Duplicate InputPort ID found."}


def test_duplicate_output_port_id():
    doc = with_change(lambda d: d["workflow_jobs"][1]["output_ports"][0].update(id=2))
    assert import_error(doc) == {"workflow_jobs[1].output_ports[0].id": "Duplicate OutputPort ID found."}


def test_connection_to_unknown_input_port():
    doc = with_change(lambda d: d["connections"][0].update(input_port=99))
    assert import_error(doc) == {"connections[0].input_port": "Referencing an invalid InputPort ID."}


def test_connection_from_unknown_output_port():
    doc = with_change(lambda d: d["connections"].append({"output_port": 3, "input_port": 1}))  # 3 is an input id
    assert import_error(doc) == {"connections[1].output_port": "Referencing an invalid OutputPort ID."}


def test_connection_using_an_output_id_as_input():
    doc = with_change(lambda d: d["connections"][0].update(input_port=2))
    assert import_error(doc) == {"connections[0].input_port": "Referencing an invalid InputPort ID."}


def test_invalid_settings():
    doc = with_change(lambda d: d["workflow_jobs"][1].update(job_settings={"Sleep": "long"}))
    detail = import_error(doc)
    assert list(detail) == ["workflow_jobs[1].job_settings"]
    assert "long" in detail["workflow_jobs[1].job_settings"]


def test_settings_missing_a_required_property():
    doc = with_change(
        lambda d: d["workflow_jobs"].append(
            {"job_name": LABELER, "job_settings": {}, "input_ports": [], "output_ports": [], "appearance": {}}
        )
    )
    assert list(import_error(doc)) == ["workflow_jobs[2].job_settings"]


@pytest.mark.parametrize("key", ["name", "description", "workflow_jobs", "connections"])
def test_missing_top_level_key(key):
    doc = with_change(lambda d: d.pop(key))
    assert import_error(doc) == {key: "This field is required."}


@pytest.mark.parametrize("key", ["job_name", "job_settings", "input_ports", "output_ports"])
def test_missing_job_key(key):
    doc = with_change(lambda d: d["workflow_jobs"][1].pop(key))
    assert import_error(doc) == {f"workflow_jobs[1].{key}": "This field is required."}


@pytest.mark.parametrize("key", ["type", "id", "label"])
def test_missing_port_key(key):
    doc = with_change(lambda d: d["workflow_jobs"][0]["input_ports"][0].pop(key))
    assert import_error(doc) == {f"workflow_jobs[0].input_ports[0].{key}": "This field is required."}


@pytest.mark.parametrize("key", ["output_port", "input_port"])
def test_missing_connection_key(key):
    doc = with_change(lambda d: d["connections"][0].pop(key))
    assert import_error(doc) == {f"connections[0].{key}": "This field is required."}


def test_job_entry_that_is_not_an_object():
    doc = with_change(lambda d: d["workflow_jobs"].append("not a job"))
    assert import_error(doc) == {"workflow_jobs[2]": "This field must be a JSON object."}


def test_late_error_writes_nothing():
    # Every job is fine; only the last connection is bad: still no workflow, job or port is left behind.
    doc = minimal_doc()
    doc["connections"].append({"output_port": 4, "input_port": 42})
    ports = InputPort.objects.count(), OutputPort.objects.count()
    import_error(doc)
    assert (InputPort.objects.count(), OutputPort.objects.count()) == ports


def _set(path, value):
    def change(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(_set(["workflow_jobs", 0, "input_ports"], None), id="ports-null"),
        pytest.param(_set(["workflow_jobs", 0, "input_ports", 0, "id"], [1]), id="port-id-list"),
        pytest.param(_set(["workflow_jobs", 0, "input_ports", 0, "type"], ["Text input"]), id="port-type-list"),
        pytest.param(_set(["connections", 0, "output_port"], [2]), id="connection-id-list"),
        pytest.param(_set(["name"], None), id="name-null"),
        pytest.param(_set(["workflow_jobs", 0, "input_ports", 0, "label"], None), id="label-null"),
        pytest.param(_set(["workflow_jobs", 0, "job_settings"], []), id="settings-list"),
    ],
)
def test_values_of_the_wrong_type_are_refused(change):
    doc = minimal_doc()
    change(doc)
    import_error(doc)
