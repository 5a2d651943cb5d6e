"""Deep-zoom tiles of image resources: a DZI pyramid made once per file, in the background.

A 100-megapixel page cannot be sent to a browser whole, so the viewer asks
for the 254-pixel tiles of the level it shows (Deep Zoom: level ``n`` is the
page shrunk to ``ceil(size / 2**(max - n))``, tiles overlap by one pixel).
Tiles are derived data, as Rodan's Diva step makes them: a Celery task makes
them after an upload or a job's output (or when the viewer first asks), into
the resource's folder (``storage.tiles_relative_dir``), and they are removed
with the resource.

Each pyramid lives in a folder named after its source file's identity (size,
modification time, inode): a file replaced by a redo gets a new folder, so
stale tiles are never shown and no cache needs purging. ``state.json`` beside
the pyramids tells the viewer how far the making of the current one is.
Pyramids are built in scratch space and renamed into place whole.

Thumbnails (Rodan's three sizes) are made on first request, beside the
pyramids and named after the same identity (``thumbnail_path``).
"""

import json
import logging
import shutil
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from django.conf import settings
from django.db import transaction

from rodan import storage
from rodan.jobs.base import DEFAULT_QUEUE

logger = logging.getLogger(__name__)

TILE_SIZE = 254
OVERLAP = 1
TILE_FORMAT = "png"
#: Deep Zoom's file names: ``image.dzi`` and ``image_files/<level>/<column>_<row>.png``.
PYRAMID_NAME = "image"
STATE_FILE = "state.json"
#: How often, at most, a running build rewrites its progress.
PROGRESS_INTERVAL = 0.5

QUEUED, RUNNING, READY, FAILED, WAITING = "queued", "running", "ready", "failed", "waiting"


class TileError(ValueError):
    """The file cannot be tiled; the message says why, in words for the viewer."""


def is_image(resource):
    return resource.resource_type.mimetype.startswith("image/")


def _tiles_dir(resource):
    return storage.media_root() / storage.tiles_relative_dir(resource)


def _stamp(path):
    """The identity of the file's current version: a replaced file gets a new one."""
    info = Path(path).stat()
    return f"{info.st_size:x}-{info.st_mtime_ns:x}-{info.st_ino:x}"


# -- the pyramid ------------------------------------------------------------------------


def _displayable(image):
    """8-bit grey or sRGB, alpha kept: what every browser draws alike (16-bit and CMYK are not)."""
    target = "b-w" if image.bands in (1, 2) else "srgb"
    if image.interpretation != target or image.format != "uchar":
        image = image.colourspace(target)
    return image if image.format == "uchar" else image.cast("uchar")


def build_pyramid(source_path, target_dir, on_progress=None):
    """Write ``target_dir/image.dzi`` and ``image_files/`` for the image at ``source_path``.

    ``on_progress(percent)`` is called as the tiles are written. Returns the
    image's (width, height). Raises TileError for files that are no image
    libvips reads, or larger than ``RODAN_MAX_IMAGE_PIXELS``.
    """
    import pyvips

    logging.getLogger("pyvips").setLevel(logging.WARNING)  # it logs every thread pool at INFO
    from rodan.imaging import ImageError, max_image_pixels

    try:
        image = pyvips.Image.new_from_file(str(source_path), access="sequential")
    except pyvips.Error as exc:
        raise TileError(f"the file could not be read as an image ({str(exc).strip().splitlines()[0]})") from exc
    try:
        limit = max_image_pixels()
    except ImageError as exc:
        raise TileError(str(exc)) from exc
    if image.width * image.height > limit:
        raise TileError(
            f"the image has {image.width} x {image.height} pixels, more than RODAN_MAX_IMAGE_PIXELS allows"
        )
    image = _displayable(image)
    if on_progress is not None:
        image.set_progress(True)
        image.signal_connect("eval", lambda _image, progress: on_progress(progress.percent))
    try:
        image.dzsave(
            str(Path(target_dir) / PYRAMID_NAME),
            suffix=f".{TILE_FORMAT}",
            tile_size=TILE_SIZE,
            overlap=OVERLAP,
            depth="onepixel",
        )
    except pyvips.Error as exc:
        raise TileError(f"the tiles could not be written ({str(exc).strip().splitlines()[0]})") from exc
    # libvips leaves the source's metadata among the tiles; it is nobody's business on the web.
    (Path(target_dir) / f"{PYRAMID_NAME}_files" / "vips-properties.xml").unlink(missing_ok=True)
    return image.width, image.height


def read_descriptor(dzi_path):
    """The pyramid's (width, height, tile size, overlap, format), from its ``.dzi`` file."""
    root = ET.parse(dzi_path).getroot()
    size = next(child for child in root if child.tag.endswith("Size"))
    return (
        int(size.get("Width")),
        int(size.get("Height")),
        int(root.get("TileSize")),
        int(root.get("Overlap")),
        root.get("Format"),
    )


def tile_source(pyramid, tiles_url):
    """OpenSeadragon's inline Deep Zoom descriptor of the ready ``pyramid``, whose tiles are served at ``tiles_url``.

    Inline, the page needs no extra request for the ``.dzi``.
    """
    width, height, tile_size, overlap, image_format = read_descriptor(
        storage.media_root() / f"{pyramid}/{PYRAMID_NAME}.dzi"
    )
    return {
        "Image": {
            "xmlns": "http://schemas.microsoft.com/deepzoom/2008",
            "Url": tiles_url,
            "Format": image_format,
            "Overlap": str(overlap),
            "TileSize": str(tile_size),
            "Size": {"Width": str(width), "Height": str(height)},
        }
    }


# -- state: what the viewer is told ------------------------------------------------------


def _read_state(resource):
    try:
        return json.loads((_tiles_dir(resource) / STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}


def _write_state(resource, **state):
    folder = _tiles_dir(resource)
    folder.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=folder, prefix=".state-")
    with open(handle, "w") as out:
        json.dump({**state, "updated": time.time()}, out)
    Path(temp).replace(folder / STATE_FILE)


def status(resource):
    """Where the resource's tiles stand: a dict with ``state`` (and ``pyramid`` or ``percent``).

    ``ready`` carries the pyramid's folder relative to MEDIA_ROOT; ``queued``
    and ``running`` a percentage; ``failed`` an ``error``; ``waiting`` means
    the resource has no file yet. Tiles that are missing, stale, or whose
    making stopped answering are requested.
    """
    if not resource.is_ready:
        return {"state": WAITING}
    try:
        stamp = _stamp(storage.absolute_path(resource))
    except FileNotFoundError:
        return {"state": WAITING}
    pyramid = _tiles_dir(resource) / stamp
    if (pyramid / f"{PYRAMID_NAME}.dzi").is_file():
        return {"state": READY, "pyramid": f"{storage.tiles_relative_dir(resource)}/{stamp}"}
    state = _read_state(resource)
    if state.get("stamp") == stamp:
        if state.get("state") == FAILED:
            return {"state": FAILED, "error": state.get("error", "")}
        alive = time.time() - state.get("updated", 0) < settings.RODAN_DISPATCH_TIMEOUT
        if state.get("state") in (QUEUED, RUNNING) and alive:
            return {"state": state["state"], "percent": state.get("percent", 0)}
    _request(resource, stamp)
    return {"state": QUEUED, "percent": 0}


def _request(resource, stamp):
    """Mark the tiles of this file version queued and send the task once the transaction commits."""
    from rodan.celery import app

    _write_state(resource, stamp=stamp, state=QUEUED, percent=0)
    resource_id = str(resource.pk)
    transaction.on_commit(lambda: app.send_task("rodan.make_tiles", args=[resource_id], queue=DEFAULT_QUEUE))


def after_write(resource):
    """A resource's file was just stored: request its tiles if it is an image (``RODAN_EAGER_TILES``)."""
    if settings.RODAN_EAGER_TILES and is_image(resource):
        status(resource)


# -- the task's work ---------------------------------------------------------------------


def make(resource_id):
    """Make the tiles of the resource's current file unless they exist; the result names what happened."""
    from rodan.models import Resource

    resource = Resource.objects.select_related("resource_type").filter(pk=resource_id).first()
    if resource is None or not resource.is_ready or not is_image(resource):
        return "skipped"
    source = storage.absolute_path(resource)
    try:
        stamp = _stamp(source)
    except FileNotFoundError:
        return "skipped"
    final = _tiles_dir(resource) / stamp
    if final.is_dir():
        return "ready"
    scratch_root = storage.work_root() / "tiles"
    scratch_root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=scratch_root, prefix=f"{resource.uuid.hex}-"))
    try:
        _write_state(resource, stamp=stamp, state=RUNNING, percent=0)
        last = [0.0]

        def progress(percent):
            if time.monotonic() - last[0] >= PROGRESS_INTERVAL:
                last[0] = time.monotonic()
                _write_state(resource, stamp=stamp, state=RUNNING, percent=min(int(percent), 99))

        started = time.monotonic()
        try:
            width, height = build_pyramid(source, scratch, progress)
        except TileError as exc:
            _write_state(resource, stamp=stamp, state=FAILED, error=str(exc))
            logger.warning("Tiles of resource %s failed: %s", resource_id, exc)
            return "failed"
        try:
            scratch.replace(final)
        except OSError:
            return "ready"  # another worker installed the same version first
        _remove_other_versions(resource, keep=stamp)
        logger.info("Tiles of resource %s (%d x %d) made in %.1f s", resource_id, width, height,
                    time.monotonic() - started)
        return "made"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _remove_other_versions(resource, keep):
    for child in _tiles_dir(resource).iterdir():
        if child.is_dir() and child.name != keep:
            shutil.rmtree(child, ignore_errors=True)


# -- thumbnails ---------------------------------------------------------------------------

#: Rodan's thumbnail sizes (the resource's ``small_thumb``, ``medium_thumb``, ``large_thumb``): the longest side, in pixels.
THUMBNAIL_SIZES = {"small": 150, "medium": 400, "large": 1500}
THUMBNAIL_QUALITY = 85


def thumbnail_path(resource, size):
    """Where the ``size`` thumbnail of the resource's current file is kept (the one rule for its name).

    Beside the pyramids, named after the file's identity like them, so a redo's
    new file gets a new thumbnail and the tiles' removal takes thumbnails along.
    Raises FileNotFoundError when the resource has no file.
    """
    stamp = _stamp(storage.absolute_path(resource))
    return _tiles_dir(resource) / f"thumbnail-{size}-{stamp}.jpg"


def thumbnail(resource, size):
    """The path of the resource's ``size`` thumbnail (a JPEG), made now if it does not exist yet.

    Raises TileError for files that are no image libvips reads (or too large),
    FileNotFoundError when the resource has no file yet.
    """
    import pyvips

    from rodan.imaging import ImageError, max_image_pixels

    if not resource.is_ready:
        raise FileNotFoundError(resource.pk)
    target = thumbnail_path(resource, size)
    if target.is_file():
        return target
    source = storage.absolute_path(resource)
    try:
        header = pyvips.Image.new_from_file(source, access="sequential")
        limit = max_image_pixels()
    except pyvips.Error as exc:
        raise TileError(f"the file could not be read as an image ({str(exc).strip().splitlines()[0]})") from exc
    except ImageError as exc:
        raise TileError(str(exc)) from exc
    if header.width * header.height > limit:
        raise TileError(f"the image has {header.width} x {header.height} pixels, more than RODAN_MAX_IMAGE_PIXELS allows")
    longest = THUMBNAIL_SIZES[size]
    try:
        # Shrinks while decoding where the format allows; never enlarges a small page.
        image = _displayable(pyvips.Image.thumbnail(source, longest, height=longest, size="down"))
        if image.hasalpha():
            image = image.flatten(background=[255] * (image.bands - 1))
        data = image.jpegsave_buffer(Q=THUMBNAIL_QUALITY, strip=True)
    except pyvips.Error as exc:
        raise TileError(f"the thumbnail could not be made ({str(exc).strip().splitlines()[0]})") from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(f"thumbnail-{size}-*.jpg"):
        if stale != target:
            stale.unlink(missing_ok=True)  # an older file's
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=".thumbnail-")
    with open(handle, "wb") as out:
        out.write(data)
    Path(temp).replace(target)
    return target


# -- removal with the resource -----------------------------------------------------------


def _removed_with_resource(sender, instance, **kwargs):
    folder = _tiles_dir(instance)
    transaction.on_commit(lambda: shutil.rmtree(folder, ignore_errors=True))


def connect():
    """Tiles go when their resource is deleted (after the deletion commits)."""
    from django.db.models.signals import post_delete

    from rodan.models import Resource

    post_delete.connect(_removed_with_resource, sender=Resource, dispatch_uid="rodan-tiles-removal")
