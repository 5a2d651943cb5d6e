"""Deep-zoom tiles (rodan.tiles): the pyramid's levels, tile sizes, edges and pixels; state; removal."""

import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from builders import make_project, upload
from PIL import Image

from rodan import storage, tiles


def _levels(dzi_dir):
    return sorted(int(p.name) for p in (dzi_dir / "image_files").iterdir())


def _tile(dzi_dir, level, column, row):
    return np.array(Image.open(dzi_dir / "image_files" / str(level) / f"{column}_{row}.png"))


def _page(width, height, seed=0):
    """A greyscale page whose every pixel differs from its neighbours, so any shift shows."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (height, width), dtype=np.uint8)


def test_levels_tile_sizes_edges_and_full_resolution_pixels(tmp_path):
    width, height = 1000, 601
    page = _page(width, height)
    cv2.imwrite(str(tmp_path / "page.png"), page)
    out = tmp_path / "pyramid"
    out.mkdir()
    assert tiles.build_pyramid(tmp_path / "page.png", out) == (width, height)

    assert tiles.read_descriptor(out / "image.dzi") == (width, height, 254, 1, "png")
    top = math.ceil(math.log2(max(width, height)))  # Deep Zoom: down to one pixel
    assert _levels(out) == list(range(top + 1))
    for level in range(top + 1):
        scale = 2 ** (top - level)
        level_w, level_h = math.ceil(width / scale), math.ceil(height / scale)
        columns, rows = math.ceil(level_w / 254), math.ceil(level_h / 254)
        names = {p.name for p in (out / "image_files" / str(level)).iterdir()}
        assert names == {f"{c}_{r}.png" for c in range(columns) for r in range(rows)}, level
        for c in range(columns):
            for r in range(rows):
                x0, y0 = max(c * 254 - 1, 0), max(r * 254 - 1, 0)
                x1, y1 = min((c + 1) * 254 + 1, level_w), min((r + 1) * 254 + 1, level_h)
                assert _tile(out, level, c, r).shape[:2] == (y1 - y0, x1 - x0), (level, c, r)

    # Full resolution: every tile holds exactly the page's pixels, one-pixel overlap included.
    for c in range(math.ceil(width / 254)):
        for r in range(math.ceil(height / 254)):
            x0, y0 = max(c * 254 - 1, 0), max(r * 254 - 1, 0)
            expected = page[y0 : (r + 1) * 254 + 1, x0 : (c + 1) * 254 + 1]
            assert np.array_equal(_tile(out, top, c, r), expected), (c, r)
    # One level down is the page halved: each pixel the mean of its 2x2 block.
    halved = page[:600, :1000].reshape(300, 2, 500, 2).astype(float).mean(axis=(1, 3))
    assert np.abs(_tile(out, top - 1, 0, 0)[:255, :255].astype(float) - halved[:255, :255]).max() <= 1
    assert _tile(out, 0, 0, 0).shape[:2] == (1, 1)


@pytest.mark.parametrize(
    "mode, pixels, expected_mode",
    [
        ("1", np.array([[0, 1], [1, 0]], bool).repeat(300, 0).repeat(300, 1), "L"),
        ("I;16", np.array([[0, 65535], [256, 32768]], np.uint16).repeat(300, 0).repeat(300, 1), "L"),
        ("RGBA", np.dstack([np.full((600, 600), v, np.uint8) for v in (10, 20, 30, 128)]), "RGBA"),
        ("RGB", np.dstack([np.full((600, 600), v, np.uint8) for v in (200, 100, 50)]), "RGB"),
    ],
)
def test_every_flavour_becomes_eight_bit_tiles_a_browser_draws(tmp_path, mode, pixels, expected_mode):
    Image.fromarray(pixels, mode if mode != "I;16" else None).save(tmp_path / "page.png")
    out = tmp_path / "pyramid"
    out.mkdir()
    tiles.build_pyramid(tmp_path / "page.png", out)
    tile = Image.open(out / "image_files" / "10" / "0_0.png")
    assert tile.mode == expected_mode and tile.size == (255, 255)
    values = np.array(tile)
    if mode == "1":
        assert values[0, 0] == 0 and values[0, 254] == 0 and set(np.unique(values)) == {0, 255}
    elif mode == "I;16":
        assert values[0, 0] == 0  # 16-bit grey shown as its high byte
        assert np.array_equal(np.array(Image.open(out / "image_files" / "10" / "1_0.png"))[0, -1], 255)
    else:
        assert tuple(values[5, 5]) == tuple(pixels[5, 5])


def test_a_file_that_is_no_image_gives_a_sentence(tmp_path):
    (tmp_path / "page.png").write_bytes(b"not an image at all")
    with pytest.raises(tiles.TileError, match="could not be read as an image"):
        tiles.build_pyramid(tmp_path / "page.png", tmp_path)


def test_an_image_over_the_pixel_limit_is_refused(tmp_path, monkeypatch):
    cv2.imwrite(str(tmp_path / "page.png"), _page(100, 100))
    monkeypatch.setenv("RODAN_MAX_IMAGE_PIXELS", "9999")
    with pytest.raises(tiles.TileError, match="RODAN_MAX_IMAGE_PIXELS"):
        tiles.build_pyramid(tmp_path / "page.png", tmp_path)


def _image_resource(tmp_path, page=None):
    path = tmp_path / "page.png"
    cv2.imwrite(str(path), _page(300, 200) if page is None else page)
    return upload(make_project(), path, mimetype="image/greyscale+png")


def test_made_once_per_file_version_and_stale_tiles_are_replaced(tmp_path):
    resource = _image_resource(tmp_path)
    first = tiles.status(resource)
    assert first == {"state": "queued", "percent": 0}
    assert tiles.make(resource.pk) == "made"
    ready = tiles.status(resource)
    assert ready["state"] == "ready"
    assert ready["pyramid"].startswith(storage.tiles_relative_dir(resource) + "/")
    assert tiles.make(resource.pk) == "ready"  # a second message finds them made

    # A redo replaces the file: the old pyramid is stale, new tiles are made and the old ones go.
    cv2.imwrite(str(tmp_path / "again.png"), _page(300, 200, seed=1))
    storage.install_file(resource, str(tmp_path / "again.png"))
    assert tiles.status(resource)["state"] == "queued"
    assert tiles.make(resource.pk) == "made"
    second = tiles.status(resource)
    assert second["state"] == "ready" and second["pyramid"] != ready["pyramid"]
    assert not (storage.media_root() / ready["pyramid"]).exists()


def test_a_failure_is_kept_with_its_reason(tmp_path):
    resource = _image_resource(tmp_path)
    Path(storage.absolute_path(resource)).write_bytes(b"broken")
    assert tiles.make(resource.pk) == "failed"
    state = tiles.status(resource)
    assert state["state"] == "failed" and "could not be read as an image" in state["error"]


def test_a_silent_build_is_requested_again(tmp_path):
    resource = _image_resource(tmp_path)
    tiles.status(resource)
    state_file = storage.media_root() / storage.tiles_relative_dir(resource) / tiles.STATE_FILE
    state = json.loads(state_file.read_text())
    state_file.write_text(json.dumps({**state, "state": "running", "percent": 40, "updated": 0}))
    assert tiles.status(resource) == {"state": "queued", "percent": 0}


def test_resources_without_a_file_wait(tmp_path):
    from rodan.models import Resource, ResourceType

    resource = Resource.objects.create(
        name="pending", project=make_project(), resource_type=ResourceType.objects.get(mimetype="image/rgb+png")
    )
    assert tiles.status(resource) == {"state": "waiting"}


def test_tiles_are_removed_with_their_resource(tmp_path):
    resource = _image_resource(tmp_path)
    tiles.status(resource)
    tiles.make(resource.pk)
    folder = storage.media_root() / storage.tiles_relative_dir(resource)
    assert folder.is_dir()
    resource.delete()
    assert not folder.exists()


def test_project_deletion_removes_its_resources_tiles(tmp_path):
    resource = _image_resource(tmp_path)
    tiles.status(resource)
    tiles.make(resource.pk)
    folder = storage.media_root() / storage.tiles_relative_dir(resource)
    resource.project.delete()
    assert not folder.exists()
