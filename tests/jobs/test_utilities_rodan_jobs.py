"""Rodan's own utility jobs, called with Rodan-shaped arguments."""

from pathlib import Path

from builders import make_project, upload

from rodan.jobs.utilities.distribution import Labeler, ResourceDistributor
from rodan.jobs.utilities.hello import HelloWorld, HelloWorldInteractive
from rodan import storage
from rodan.jobs.base import WAITING_FOR_INPUT, ManualPhaseException


def _entry(path, mimetype="text/plain", name="r"):
    return {"resource_path": str(path), "resource_type": mimetype, "resource_name": name}


def test_hello_world_greets_and_appends_its_input(tmp_path):
    (tmp_path / "in").write_text("from folio 3")
    outputs = {"Text output": [_entry(tmp_path / "a"), _entry(tmp_path / "b")]}
    HelloWorld().run_my_task({"Text input": [_entry(tmp_path / "in")]}, {}, outputs)
    assert (tmp_path / "a").read_text() == (tmp_path / "b").read_text() == "Hello World from folio 3"


def test_interactive_hello_waits_then_validates_then_writes(tmp_path):
    job = HelloWorldInteractive()
    outputs = {"Text output": [_entry(tmp_path / "out")]}
    assert isinstance(job.run_my_task({}, {}, outputs), WAITING_FOR_INPUT)
    for bad in ({}, {"name": "  "}, {"name": 7}, "Ada", {"name": "x" * 101}):
        try:
            job.validate_my_user_input({}, {}, bad)
        except ManualPhaseException:
            continue
        raise AssertionError(f"{bad!r} was accepted")
    state = job.validate_my_user_input({}, {}, {"name": " Ada "})
    assert state == {"@name": "Ada"}
    assert job.run_my_task({}, state, outputs) is True
    assert (tmp_path / "out").read_text() == "Hello Ada"


def test_distributor_copies_or_reports_a_type_mismatch(tmp_path):
    source = tmp_path / "page.png"
    source.write_bytes(b"\x89PNG fake")
    job = ResourceDistributor()
    job.run_my_task(
        {"Resource input": [_entry(source, "image/png")]}, {}, {"Resource output": [_entry(tmp_path / "copy", "image/png")]}
    )
    assert (tmp_path / "copy").read_bytes() == source.read_bytes() and not job.error_details
    mismatch = ResourceDistributor()
    mismatch.run_my_task(
        {"Resource input": [_entry(source, "image/png")]}, {}, {"Resource output": [_entry(tmp_path / "x", "text/plain")]}
    )
    assert "image/png" in mismatch.error_details and not (tmp_path / "x").exists()


def test_labeler_labels_its_input_resources():
    project = make_project()
    resources = [upload(project, "a", name="a"), upload(project, "b", name="b")]
    untouched = upload(project, "c", name="c")
    inputs = {"Resource": [_entry(Path(storage.absolute_path(r))) for r in resources]}
    Labeler().run_my_task(inputs, {"Label": "scribe B"}, {})
    for resource in resources:
        assert list(resource.labels.values_list("name", flat=True)) == ["scribe B"]
    assert not untouched.labels.exists()
