"""File names of resources leaving the system (rodan.naming), and the callers that must agree on them."""

import io
import zipfile

from api_clients import client_for
from builders import make_project, upload

from rodan.naming import file_name, step_name, unique_name


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
