"""Resource thumbnails: Rodan's ``small_thumb``/``medium_thumb``/``large_thumb`` and the route they name."""

import io

import numpy as np
import pytest
from api_clients import client_for, make_user
from django.test import Client
from PIL import Image

from rodan import storage, tiles
from rodan.models import Project, Resource, ResourceType


def _resource(project, mimetype, content, name="page"):
    resource = Resource.objects.create(name=name, project=project, resource_type=ResourceType.objects.get(mimetype=mimetype))
    storage.store_stream(resource, [content])
    resource.save()
    return resource


def _png(width, height, mode="L"):
    rng = np.random.default_rng(1)
    shape = (height, width) if mode == "L" else (height, width, len(mode))
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def owner():
    return make_user()


@pytest.fixture
def project(owner):
    return Project.objects.create(name="thumbnails", creator=owner)


@pytest.fixture
def image(project):
    return _resource(project, "image/greyscale+png", _png(900, 600))


def _jpeg_size(response):
    body = b"".join(response.streaming_content) if response.streaming else response.content
    picture = Image.open(io.BytesIO(body))
    assert picture.format == "JPEG"
    return picture.size


def test_representation_names_three_sizes_for_images_and_none_otherwise(owner, project, image):
    text = _resource(project, "text/plain", b"words")
    client = client_for(owner)
    body = client.get(f"/api/resource/{image.pk}/").json()
    for size in ("small", "medium", "large"):
        assert body[f"{size}_thumb"].startswith(f"http://testserver/api/resource/{image.pk}/thumbnail/{size}/?v=")
    assert all(client.get(f"/api/resource/{text.pk}/").json()[f"{size}_thumb"] is None for size in ("small", "medium", "large"))
    waiting = Resource.objects.create(name="later", project=project, resource_type=image.resource_type)
    assert client.get(f"/api/resource/{waiting.pk}/").json()["small_thumb"] is None


def test_thumbnail_is_made_once_scaled_to_its_size_and_kept_beside_the_tiles(owner, image):
    client = client_for(owner)
    url = client.get(f"/api/resource/{image.pk}/").json()["small_thumb"]
    first = client.get(url)
    assert first.status_code == 200 and first["Content-Type"] == "image/jpeg"
    assert _jpeg_size(first) == (150, 100)
    assert "immutable" in first["Cache-Control"] and "private" in first["Cache-Control"]
    kept = tiles.thumbnail_path(image, "small")
    assert kept.is_file() and str(kept).startswith(str(storage.media_root() / storage.tiles_relative_dir(image)))
    made_at = kept.stat().st_mtime_ns
    again = client.get(url)
    assert _jpeg_size(again) == (150, 100) and kept.stat().st_mtime_ns == made_at  # served from the file, not remade
    assert _jpeg_size(client.get(f"/api/resource/{image.pk}/thumbnail/medium/")) == (400, 267)


def test_small_images_are_not_enlarged_and_alpha_is_flattened(owner, project):
    small = _resource(project, "image/rgba+png", _png(90, 60, "RGBA"))
    response = client_for(owner).get(f"/api/resource/{small.pk}/thumbnail/large/")
    assert response.status_code == 200 and _jpeg_size(response) == (90, 60)


def test_unversioned_url_revalidates_with_its_etag(owner, image):
    client = client_for(owner)
    response = client.get(f"/api/resource/{image.pk}/thumbnail/small/")
    assert response["Cache-Control"] == "private, no-cache"
    again = client.get(f"/api/resource/{image.pk}/thumbnail/small/", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_a_new_file_gets_a_new_thumbnail_and_url(owner, image):
    client = client_for(owner)
    before = client.get(f"/api/resource/{image.pk}/").json()["small_thumb"]
    old = tiles.thumbnail_path(image, "small")
    client.get(before)
    storage.store_stream(image, [_png(300, 600)])
    image.save()
    after = client.get(f"/api/resource/{image.pk}/").json()["small_thumb"]
    assert after != before
    assert _jpeg_size(client.get(after)) == (75, 150)
    assert not old.exists()  # the older file's thumbnail was replaced


def test_refusals_are_json_sentences(owner, project, image):
    client = client_for(owner)
    text = _resource(project, "text/plain", b"words")
    not_image = client.get(f"/api/resource/{text.pk}/thumbnail/small/")
    assert not_image.status_code == 404 and "not an image" in not_image.json()["detail"]
    wrong_size = client.get(f"/api/resource/{image.pk}/thumbnail/huge/")
    assert wrong_size.status_code == 404 and "small, medium, large" in wrong_size.json()["detail"]
    broken = _resource(project, "image/png", b"not a png at all")
    unreadable = client.get(f"/api/resource/{broken.pk}/thumbnail/small/")
    assert unreadable.status_code == 404 and "could not be read as an image" in unreadable.json()["detail"]
    waiting = Resource.objects.create(name="later", project=project, resource_type=image.resource_type)
    assert "no file yet" in client.get(f"/api/resource/{waiting.pk}/thumbnail/small/").json()["detail"]


def test_same_permission_as_the_resource_and_the_cookie_is_accepted(owner, image):
    stranger = client_for(make_user()).get(f"/api/resource/{image.pk}/thumbnail/small/")
    assert stranger.status_code == 404 and stranger.json()["detail"] == "No such resource."
    anonymous = client_for().get(f"/api/resource/{image.pk}/thumbnail/small/")
    assert anonymous.status_code in (401, 403) and "detail" in anonymous.json()
    browser = Client()
    browser.cookies["token"] = owner.auth_token.key  # what an <img> sends
    assert browser.get(f"/api/resource/{image.pk}/thumbnail/small/").status_code == 200
