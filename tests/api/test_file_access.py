"""``/uploads/``: a project's files for its members and for holders of the API's signed links, nobody else.

Walked for every role, with the token header and with the ``token`` cookie that
Rodan's client keeps; signed links from ``resource_file`` and ``package_url``
work without credentials until they expire; altered signatures, paths that try
to leave the data folder and other projects' files are refused with JSON.
"""

import pytest
from api_clients import client_for, make_user
from builders import chain_document, upload, valid_workflow
from django.conf import settings
from django.test import Client

from rodan import file_access, storage
from rodan.engine.expansion import create_run
from rodan.models import Project, ResultsPackage
from rodan.models.status import RunJobStatus
from rodan.packages import package_path, package_relative_path

ROLES = ["anonymous", "outsider", "worker", "admin", "creator", "superuser"]
EXPECTED = {"anonymous": 401, "outsider": 404, "worker": 200, "admin": 200, "creator": 200, "superuser": 200}


@pytest.fixture(scope="module")
def world():
    users = {role: make_user(is_superuser=role == "superuser") for role in ROLES if role != "anonymous"}
    project = Project.objects.create(name="unpublished", creator=users["creator"])
    project.admins.add(users["creator"], users["admin"])
    project.workers.add(users["worker"])
    page = upload(project, "folio 1r", name="folio")
    workflow = valid_workflow(project, chain_document([{}]))
    run = create_run(workflow, {workflow.workflow_jobs.get().input_ports.get(): [page]})
    package = ResultsPackage.objects.create(workflow_run=run, status=RunJobStatus.FINISHED)
    package_path(package).parent.mkdir(parents=True, exist_ok=True)
    package_path(package).write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip
    return users, page, package


def _get(url, role, users, how="header"):
    if role == "anonymous":
        return Client().get(url)
    if how == "cookie":
        client = Client()
        client.cookies["token"] = users[role].auth_token.key
        return client.get(url)
    return client_for(users[role]).get(url)


def _body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize("how", ["header", "cookie"])
@pytest.mark.parametrize("role", ROLES)
def test_only_members_read_a_projects_files_and_packages(world, role, how):
    users, page, package = world
    for path in (f"/uploads/{page.resource_file}", f"/uploads//{package_relative_path(package)}"):
        response = _get(path, role, users, how)
        assert response.status_code == EXPECTED[role], (path, response.status_code)
        if response.status_code == 200:
            assert _body(response) in (b"folio 1r", b"PK\x05\x06" + bytes(18))
        else:
            assert response["Content-Type"] == "application/json" and response.json()["detail"].endswith(".")


def test_the_apis_links_are_signed_and_open_without_credentials(world):
    users, page, package = world
    member = client_for(users["worker"])
    resource_file = member.get(f"/api/resource/{page.pk}/").json()["resource_file"]
    package_url = member.get(f"/api/resultspackage/{package.pk}/").json()["package_url"]
    assert resource_file.startswith(f"http://testserver/uploads/{page.resource_file}?signature=")
    assert package_url.startswith("http://testserver/uploads//results_packages/")  # Rodan's double slash kept
    assert _body(Client().get(resource_file)) == b"folio 1r"
    assert Client().get(package_url).status_code == 200


def test_a_signature_opens_only_its_own_file(world):
    users, page, package = world
    other = upload(page.project, "folio 2v", name="other")
    signed = file_access.link(page.resource_file)
    signature = signed.split("signature=")[1]
    assert Client().get(f"/uploads/{other.resource_file}?signature={signature}").status_code == 403
    altered = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    refused = Client().get(f"/uploads/{page.resource_file}?signature={altered}")
    assert refused.status_code == 403 and "expired or is not valid" in refused.json()["detail"]


def test_a_signed_link_expires(world, monkeypatch):
    users, page, package = world
    signed = file_access.link(page.resource_file)
    assert Client().get(signed).status_code == 200
    monkeypatch.setattr(settings, "RODAN_FILE_LINK_SECONDS", -1)
    assert Client().get(signed).status_code == 403
    assert _get(f"/uploads/{page.resource_file}", "worker", users).status_code == 200  # members need no link


@pytest.mark.parametrize(
    "path",
    [
        "/uploads/../../../etc/passwd",
        "/uploads/projects/../../../../etc/passwd",
        "/uploads/%2e%2e/%2e%2e/etc/passwd",
        "/uploads/",
        "/uploads/results_packages/not-a-uuid.zip",
        "/uploads/projects/nothex/resources/x/original_file",
        "/uploads/elsewhere/file",
    ],
)
def test_paths_that_are_no_projects_file_are_not_found(world, path):
    users, page, package = world
    response = _get(path, "superuser", users)
    assert response.status_code == 404 and response.json()["detail"] == "No such file."


def test_another_projects_file_stays_hidden_from_a_member_of_this_one(world):
    users, page, package = world
    elsewhere = Project.objects.create(name="elsewhere", creator=make_user())
    hidden = upload(elsewhere, "secret", name="secret")
    assert _get(f"/uploads/{hidden.resource_file}", "worker", users).status_code == 404
    assert (storage.media_root() / hidden.resource_file).read_bytes() == b"secret"
