"""The resource viewer's contract (rodan-compat.md §2.5): viewer_url, acquire, the working URL and its errors."""

import io
from datetime import timedelta

import numpy as np
import pytest
from api_clients import client_for, make_user
from django.test import Client
from django.utils import timezone
from PIL import Image

from rodan import tiles
from rodan.models import Project, Resource, ResourceType, ViewerToken


def _resource(project, mimetype, content=b"", name="page"):
    from rodan import storage

    resource = Resource.objects.create(
        name=name, project=project, resource_type=ResourceType.objects.get(mimetype=mimetype)
    )
    storage.store_stream(resource, [content])
    resource.save()
    return resource


def _png(width=600, height=400):
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (height, width), dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def owner():
    return make_user()


@pytest.fixture
def project(owner):
    return Project.objects.create(name="viewer", creator=owner)


@pytest.fixture
def image(project):
    return _resource(project, "image/greyscale+png", _png())


def _acquire(user, resource):
    return client_for(user).post(f"/api/resource/{resource.pk}/acquire/")


def test_viewer_url_names_acquire_for_images_and_mei_only(owner, project, image):
    mei = _resource(project, "application/mei+xml", b"<mei/>")
    text = _resource(project, "text/plain", b"words")
    client = client_for(owner)
    for resource, expected in ((image, True), (mei, True), (text, False)):
        body = client.get(f"/api/resource/{resource.pk}/").json()
        if expected:
            assert body["viewer_url"] == f"http://testserver/api/resource/{resource.pk}/acquire/"
        else:
            assert body["viewer_url"] is None


def test_acquire_gives_a_working_url_and_a_utc_expiry(owner, image):
    response = _acquire(owner, image)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"working_url", "working_user_expiry"}
    token = ViewerToken.objects.get(user=owner)
    assert body["working_url"] == f"http://testserver/api/resource/{image.pk}/{token.key}/"
    assert body["working_user_expiry"].endswith("Z")
    lasting = token.expiry - timezone.now()
    assert timedelta(seconds=999990) < lasting <= timedelta(seconds=999999)


def test_acquire_needs_a_login_and_the_project(image):
    assert client_for().post(f"/api/resource/{image.pk}/acquire/").status_code == 401
    outsider = make_user()
    assert _acquire(outsider, image).status_code == 404
    assert client_for(outsider).post("/api/resource/00000000-0000-0000-0000-000000000000/acquire/").status_code == 404
    project_worker = make_user()
    image.project.workers.add(project_worker)
    assert _acquire(project_worker, image).status_code == 200


def test_the_working_url_serves_the_viewer_page_without_a_login(owner, image):
    working_url = _acquire(owner, image).json()["working_url"]
    page = Client().get(working_url)
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    assert 'id="viewer-config"' in html and f"/api/resource/{image.pk}/" in html
    assert '<script type="module" src="/static/frontend/assets/viewer-' in html
    script = html.split('<script type="module" src="', 1)[1].split('"', 1)[0]
    assert Client().get(script).status_code == 200  # served by us, like every asset
    assert "http://" not in html.replace(working_url, "") and "https://" not in html


def test_each_acquire_replaces_the_users_token(owner, image):
    first = _acquire(owner, image).json()["working_url"]
    second = _acquire(owner, image).json()["working_url"]
    assert first != second
    assert Client().get(second).status_code == 200
    assert Client().get(first).status_code == 401


def test_an_expired_or_wrong_token_gives_401_with_a_sentence(owner, image):
    working_url = _acquire(owner, image).json()["working_url"]
    ViewerToken.objects.filter(user=owner).update(expiry=timezone.now() - timedelta(seconds=1))
    expired = Client().get(working_url)
    assert expired.status_code == 401 and "has expired or is not valid" in expired.content.decode()
    as_json = Client().get(working_url, HTTP_ACCEPT="application/json")
    assert as_json.status_code == 401 and "expired" in as_json.json()["message"]
    tiles_status = Client().get(working_url + "tiles/")
    assert tiles_status.status_code == 401 and "expired" in tiles_status.json()["message"]
    forged = f"/api/resource/{image.pk}/{'0' * 32}/"
    assert Client().get(forged).status_code == 401


def test_a_token_opens_only_what_its_user_may_see(owner, image):
    outsider = make_user()
    other_image = _resource(Project.objects.create(name="other", creator=outsider), "image/greyscale+png", _png())
    token = _acquire(owner, image).json()["working_url"].rstrip("/").rsplit("/", 1)[1]
    assert Client().get(f"/api/resource/{other_image.pk}/{token}/").status_code == 404


def test_mei_and_other_resources_answer_404_with_a_sentence(owner, project):
    mei = _resource(project, "application/mei+xml", b"<mei/>")
    text = _resource(project, "text/plain", b"words")
    mei_page = Client().get(_acquire(owner, mei).json()["working_url"])
    assert mei_page.status_code == 404 and "Neon" in mei_page.content.decode()
    text_page = Client().get(_acquire(owner, text).json()["working_url"], HTTP_ACCEPT="application/json")
    assert text_page.status_code == 404 and text_page.json() == {"message": "This resource is not an image, so there is nothing to show here."}


def test_tiles_status_reports_progress_then_the_tile_source(owner, image):
    working_url = _acquire(owner, image).json()["working_url"]
    pending = Client().get(working_url + "tiles/").json()
    assert pending["state"] == "queued" and "waiting for a worker" in pending["message"]
    tiles.make(image.pk)  # what the worker's task does
    ready = Client().get(working_url + "tiles/").json()
    assert ready["state"] == "ready"
    source = ready["tileSource"]["Image"]
    assert source["Size"] == {"Width": "600", "Height": "400"}
    assert (source["TileSize"], source["Overlap"], source["Format"]) == ("254", "1", "png")
    tile = Client().get(source["Url"] + "10/0_0.png")  # level 10 of 600 px is full resolution
    assert tile.status_code == 200
    assert Image.open(io.BytesIO(b"".join(tile.streaming_content))).size == (255, 255)


def test_tiles_status_of_a_broken_image_and_of_one_without_a_file(owner, project):
    broken = _resource(project, "image/rgb+png", b"not a png")
    tiles.status(broken)
    tiles.make(broken.pk)
    failed = Client().get(_acquire(owner, broken).json()["working_url"] + "tiles/").json()
    assert failed["state"] == "failed" and failed["message"].startswith("The tiles of this image could not be made:")
    pending = Resource.objects.create(
        name="later", project=project, resource_type=ResourceType.objects.get(mimetype="image/rgb+png")
    )
    waiting = Client().get(_acquire(owner, pending).json()["working_url"] + "tiles/").json()
    assert waiting == {"state": "waiting", "message": "This image has no file yet: the job that makes it has not finished."}
