"""File names of resources leaving the system (rodan.naming), and the callers that must agree on them."""

import io
import zipfile

import pytest
from api_clients import client_for
from builders import make_project, upload

from rodan import batch
from rodan.models import Output, ResultsPackage, RunJob, WorkflowRun
from rodan.naming import entry_name, file_name, safe_part, step_name, unique_name
from rodan.packages import build_package, package_path


def test_file_name_adds_the_types_extension(wfb):
    page = wfb.upload("x", name="folio 1")
    assert file_name(page) == "folio 1.txt"
    assert file_name(page, "Step - Text output") == "Step - Text output.txt"


def test_file_name_of_a_type_without_extension_has_no_dot(wfb):
    page = wfb.upload("x", name="folio 1", mimetype="application/octet-stream")
    assert page.resource_type.extension == ""
    assert file_name(page) == "folio 1"
    assert file_name(page, "") == ""


def test_step_name():
    assert step_name("Hello World - Python3", "Text output") == "Hello World - Python3 - Text output"


def test_unique_name_numbers_repeats_before_the_extension():
    taken = set()
    names = [unique_name(name, taken) for name in ["a.png", "a.png", "a.png", "b", "b", "data/x.y/c", "data/x.y/c"]]
    assert names == ["a.png", "a (2).png", "a (3).png", "b", "b (2)", "data/x.y/c", "data/x.y/c (2)"]
    assert taken == set(names)


def test_unique_name_skips_a_numbered_name_already_taken():
    taken = {"a.png", "a (2).png"}
    assert unique_name("a.png", taken) == "a (3).png"


def test_archive_names_entries_by_the_same_rule():
    project = make_project()
    first = upload(project, "one", name="page")
    second = upload(project, "two", name="page")
    client = client_for(project.creator)
    response = client.get(f"/api/resources/archive/?resource_uuid={first.pk}&resource_uuid={second.pk}")
    assert response.status_code == 200
    names = sorted(zipfile.ZipFile(io.BytesIO(response.content)).namelist())
    assert names == ["page (2).txt", "page.txt"]


def test_safe_part_keeps_ordinary_names_and_defuses_hostile_ones():
    assert safe_part("folio 12r (verso) v2.png") == "folio 12r (verso) v2.png"
    assert safe_part("../../../x") == ".._.._.._x"
    assert safe_part("/etc/passwd") == "_etc_passwd"
    assert safe_part("C:\\Windows\\x") == "C:_Windows_x"
    assert safe_part("a\nb\tc\x1b\x7f") == "a_b_c__"
    for nothing in ("..", ".", "", " . ", "..."):
        assert safe_part(nothing) == "_"


@pytest.mark.parametrize("hostile", ["../../../x", "/abs", "..", "a/../../b", "\\..\\..\\x", "x\r\n", "."])
def test_entry_name_stays_in_its_folder(hostile):
    name = entry_name("data", hostile, "f.txt")
    parts = name.split("/")
    assert len(parts) == 3 and parts[0] == "data" and parts[2] == "f.txt"
    assert parts[1] not in ("..", ".", "") and "\\" not in name
    assert all(ord(ch) >= 32 and ord(ch) != 127 for ch in name)


def _run_with_hostile_names():
    """A run whose only job is called ``../../evil`` and wrote one resource called ``../../../x``."""
    project = make_project()
    run = WorkflowRun.objects.create(project=project, name="hostile")
    run_job = RunJob.objects.create(workflow_run=run, workflow_job_uuid="0" * 32, job_name="../../evil")
    written = upload(project, "out", name="../../../x")
    Output.objects.create(run_job=run_job, output_port_type_name="Text/output", resource=written)
    return run


@pytest.mark.parametrize(
    "mode, expected",
    [(0, "data/.._.._evil - Text_output/.._.._.._x.txt"), (1, "data/.._.._.._x/.._.._evil - Text_output.txt")],
)
def test_results_package_entries_stay_in_the_bag(mode, expected):
    package = ResultsPackage.objects.create(workflow_run=_run_with_hostile_names(), packaging_mode=mode)
    build_package(package)
    names = zipfile.ZipFile(package_path(package)).namelist()
    assert sorted(names) == ["bagit.txt", expected, "manifest-md5.txt"]


def test_batch_export_stays_in_the_output_folder(tmp_path):
    outdir = tmp_path / "out"
    written = batch.export_outputs(_run_with_hostile_names(), outdir)
    assert [p.relative_to(outdir).as_posix() for p in written] == [".._.._evil - Text_output.txt"]
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == written
