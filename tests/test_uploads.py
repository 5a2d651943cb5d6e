"""Uploads: identification by content, claimed types, the size limit, nothing half-stored."""

import io
from pathlib import Path

import numpy as np
import pytest
from builders import make_project
from django.conf import settings
from PIL import Image

from rodan import storage
from rodan.models import Resource
from rodan.uploads import UploadError, create_resource, create_resource_from_path


def _png_bytes(mode, size=(5, 3)):
    buffer = io.BytesIO()
    Image.fromarray(np.zeros(size[::-1], dtype=np.uint8)).convert(mode).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "mode, mimetype",
    [("1", "image/onebit+png"), ("L", "image/greyscale+png"), ("RGB", "image/rgb+png"), ("RGBA", "image/rgba+png")],
)
def test_upload_is_identified_by_content(mode, mimetype):
    project = make_project()
    resource = create_resource(project, "folio 12r.png", [_png_bytes(mode)])
    assert resource.name == "folio 12r"
    assert resource.resource_type.mimetype == mimetype
    assert resource.processing_status is None and resource.is_ready
    assert Path(storage.absolute_path(resource)).read_bytes() == _png_bytes(mode)
    assert resource.resource_file.endswith(f"{resource.uuid.hex}/original_file")


def test_claimed_type_is_used_without_checking_but_octet_stream_is_not():
    project = make_project()
    claimed = create_resource(project, "notes.txt", [b"plain words"], claimed_type="application/json")
    assert claimed.resource_type.mimetype == "application/json"
    detected = create_resource(project, "notes.txt", [b"plain words"], claimed_type="application/octet-stream")
    assert detected.resource_type.mimetype == "text/plain"
    with pytest.raises(UploadError, match="unknown resource type"):
        create_resource(project, "x.bin", [b"x"], claimed_type="image/nonsense")


def test_oversized_upload_is_refused_and_leaves_nothing(monkeypatch):
    project = make_project()
    monkeypatch.setattr(settings, "DATA_UPLOAD_MAX_MEMORY_SIZE", 1024 * 1024)
    chunks = (b"\0" * 65536 for _ in range(20))  # 1.25 MiB, streamed
    with pytest.raises(UploadError, match="larger than the upload limit of 1 MiB"):
        create_resource(project, "huge.tif", chunks)
    assert not Resource.objects.filter(project=project).exists()
    staging = storage.work_root() / "uploads"
    assert not list(staging.iterdir())
    assert not (storage.media_root() / "projects" / project.uuid.hex).exists()


def test_upload_from_a_local_file(tmp_path):
    page = tmp_path / "page.jpg"
    Image.new("RGB", (4, 4), "white").save(page)
    resource = create_resource_from_path(make_project(), page)
    assert resource.name == "page" and resource.resource_type.mimetype == "image/rgb+jpg"
