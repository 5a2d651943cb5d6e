"""Hostile requests get a 400 with a sentence and change nothing: JSON nested too deep or too
large, multi-file uploads with one bad file, resource names that try to leave an archive."""

import io
import json
import zipfile

import pytest
from api_clients import client_for, make_user
from django.test import RequestFactory, override_settings

from rodan import storage
from rodan.models import Project, Resource, Workflow
from rodan.views.interactive import _user_input


def nested(depth):
    return "[" * depth + "]" * depth


@pytest.fixture
def owner():
    return make_user()


@pytest.fixture
def project(owner):
    project = Project.objects.create(name="hostile", creator=owner)
    project.admins.add(owner)
    return project


def post_json(client, url, text):
    return client.generic("POST", url, text, content_type="application/json")


@pytest.mark.parametrize("depth", [101, 100_000])
def test_a_workflow_import_nested_too_deep_is_a_400(owner, project, depth):
    body = '{"project": "http://testserver/api/project/%s/", "serialized": %s}' % (project.pk, nested(depth))
    response = post_json(client_for(owner), "/api/workflows/", body)
    assert response.status_code == 400
    assert response.json() == {"detail": "The JSON is nested deeper than 100 levels (RODAN_MAX_JSON_DEPTH)."}
    assert not Workflow.objects.filter(project=project).exists()


def test_json_as_deep_as_the_limit_is_read(owner, project):
    """100 levels pass the parser: the import then judges the document (a 400 of its own)."""
    body = '{"project": "http://testserver/api/project/%s/", "serialized": %s}' % (project.pk, nested(99))
    response = post_json(client_for(owner), "/api/workflows/", body)
    assert response.status_code == 400
    assert "serialized" in response.json()


def test_a_deep_document_in_a_form_field_is_a_400(owner, project):
    data = {"project": f"http://testserver/api/project/{project.pk}/", "serialized": nested(100_000)}
    response = client_for(owner).post("/api/workflows/", data, format="multipart")
    assert response.status_code == 400
    assert response.json() == {"serialized": ["Value must be valid JSON."]}


@override_settings(RODAN_MAX_JSON_BYTES=1000)
def test_a_json_body_over_the_limit_is_a_400(owner, project):
    body = json.dumps({"name": "x" * 1000, "project": f"http://testserver/api/project/{project.pk}/"})
    response = post_json(client_for(owner), "/api/workflows/", body)
    assert response.status_code == 400
    assert response.json() == {
        "detail": "The JSON body is larger than the limit of 1000 bytes (RODAN_MAX_JSON_BYTES)."
    }


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024 * 1024)
def test_a_body_over_the_request_limit_is_a_400(owner):
    response = post_json(client_for(owner), "/api/projects/", json.dumps({"name": "x" * (1024 * 1024)}))
    assert response.status_code == 400
    assert response.json() == {"detail": "The request body is larger than the limit of 1 MiB (RODAN_MAX_UPLOAD_BYTES)."}


def test_an_interactive_submission_nested_too_deep_is_refused():
    request = RequestFactory().post("/", nested(100_000), content_type="application/json")
    with pytest.raises(ValueError, match="nested deeper than 100 levels"):
        _user_input(request)


def named_file(name, content):
    handle = io.BytesIO(content)
    handle.name = name
    return handle


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024 * 1024)
def test_a_multi_file_upload_with_one_file_over_the_limit_stores_none(owner, project):
    files = [named_file("a.txt", b"a"), named_file("b.txt", b"b"), named_file("huge.txt", b"x" * (1024 * 1024 + 1))]
    payload = {"project": f"http://testserver/api/project/{project.pk}/", "files": files, "label_names": "l1"}
    response = client_for(owner).post("/api/resources/", payload, format="multipart")
    assert response.status_code == 400
    assert response.json() == {"files": ["huge.txt is larger than the upload limit of 1 MiB (RODAN_MAX_UPLOAD_BYTES)"]}
    assert not Resource.objects.filter(project=project).exists()
    folder = storage.media_root() / storage.project_folder(project.pk)
    assert not [path for path in folder.rglob("*") if path.is_file()]
    assert not list((storage.work_root() / "uploads").iterdir())


def test_a_multi_file_upload_stores_every_file(owner, project):
    files = [named_file("a.txt", b"a"), named_file("b.txt", b"b")]
    payload = {"project": f"http://testserver/api/project/{project.pk}/", "files": files, "label_names": "l1"}
    response = client_for(owner).post("/api/resources/", payload, format="multipart")
    assert response.status_code == 201
    assert sorted(r["name"] for r in response.json()) == ["a", "b"]
    assert all(r.labels.filter(name="l1").exists() for r in Resource.objects.filter(project=project))


HOSTILE = ["../../../x", "/etc/passwd", "..", "a\\..\\..\\b", "line\nbreak\x1b", "a/b", "a_b"]


def test_archive_entry_names_cannot_leave_the_folder(owner, project):
    from builders import upload

    resources = [upload(project, name, name=name) for name in HOSTILE]
    query = "&".join(f"resource_uuid={r.pk}" for r in resources)
    response = client_for(owner).get(f"/api/resources/archive/?{query}")
    assert response.status_code == 200
    names = sorted(zipfile.ZipFile(io.BytesIO(response.content)).namelist())
    assert names == sorted([
        ".._.._.._x.txt", "_etc_passwd.txt", "...txt", "a_.._.._b.txt", "line_break_.txt", "a_b.txt", "a_b (2).txt",
    ])
