"""The ``Pixel_js`` job with Rodan's contract (rodan-compat.md §7.2).

The first run waits for the user. The page submits the user's edits (or,
from Rodan's own page, one PNG per layer); ``validate_my_user_input`` checks
them and keeps them as the job's ``@`` state; the re-run turns them into a
mask per layer at full resolution and writes each layer as the original's
pixels where painted, transparent elsewhere (or, with ``Output Mask``, the
mask itself in the layer's colour), the background (the selected region
minus every layer), the region, and a ZIP of them all with Rodan's names.

Layers are made one at a time, and each is encoded by a writer thread
while the next one is rasterised. On a page of w x h pixels the worker
holds the page as decoded (3 bytes a pixel for RGB), one BGRA output (4)
and three masks (the running background, the layer being written and the
next one, 1 each); while a layer with a fill or a paste is rasterised no
output is held, and the page's luma and the fill's region (or the pasted
layer's mask) take its place. The outputs are written by OpenCV straight
to files, and the original's PNG is copied rather than encoded again
(bench/pixel.py measures all this on a 100 MP page).
"""

import os
import shutil
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from rodan.imaging import PNG_COMPRESS_LEVEL, load_image, save_png, to_rgba
from rodan.jobs import kit
from rodan.jobs.base import WAITING_FOR_INPUT, ManualPhaseException, RodanTask

from . import operations as ops

RGBA = "image/rgba+png"
IMAGE = "Image"
OUTPUT_MASK = "Output Mask"
LAYER_INPUT = "PNG - Layer {} Input"
LAYER_OUTPUT = "PNG - Layer {} Output"
#: The colours of the page and of the masks written with ``Output Mask``: one rule for both.
REGION_COLOUR = (120, 120, 120)
BACKGROUND_COLOUR = (255, 255, 255)
LAYER_COLOURS = [(230, 25, 75), (0, 130, 200), (60, 180, 75), (245, 130, 48), (145, 30, 180), (0, 160, 160),
                 (200, 160, 0)]
#: Rodan's ZIP entry names.
ZIP_BACKGROUND = "rgba PNG - Layer 0 (Background).png"
ZIP_LAYER = "rgba PNG - Layer {}.png"
ZIP_REGION = "rgba PNG - Selected regions.png"
ZIP_IMAGE = "Image.png"
SETTINGS = kit.settings_schema(
    "Python3", title="Options", properties={OUTPUT_MASK: {"type": "boolean", "default": False}}
)


def _is_image(mimetype):
    return mimetype.startswith("image/")


def connected_layer_ports(inputs):
    """The connected layer input ports, in layer order: layer k of the page is the k-th of them."""
    names = [LAYER_INPUT.format(n) for n in range(1, ops.MAX_LAYERS + 1)]
    return [name for name in names if inputs.get(name)]


def page_size(path):
    """(width, height) of the page image, from its header."""
    import pyvips

    image = pyvips.Image.new_from_file(str(path))
    return image.width, image.height


def input_mask(path, label):
    """A layer input's mask: its opaque pixels (for a PNG without alpha, grey above 1, as Rodan reads it)."""
    array = load_image(path, label)
    if array.ndim == 3 and array.shape[2] == 4:
        return np.where(array[..., 3] > 0, np.uint8(255), np.uint8(0))
    grey = array if array.ndim == 2 else array.mean(axis=2)
    return np.where(np.asarray(grey) > 1, np.uint8(255), np.uint8(0))


#: Rows converted at a time when a layer is cut out: a strip of the page's RGBA, never a whole copy.
STRIP_ROWS = 256
#: zlib level 1 as every PNG the jobs write, and the Sub filter for every row instead of libpng's trial of all
#: five: 1.6 times as fast on a full page and 2-3 times on a sparse layer, files within 3 % (bench/pixel.py).
PNG_PARAMS = [cv2.IMWRITE_PNG_COMPRESSION, PNG_COMPRESS_LEVEL, cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_SUB]


def bgra_rows(page):
    """Rows of the page (any pixel type) as BGRA, OpenCV's order: RGBA as ``to_rgba`` gives it, channels swapped."""
    if page.dtype == np.uint8 and page.ndim == 2:
        return cv2.cvtColor(page, cv2.COLOR_GRAY2BGRA)
    if page.dtype == np.uint8 and page.ndim == 3 and page.shape[2] == 3:
        return cv2.cvtColor(page, cv2.COLOR_RGB2BGRA)
    return cv2.cvtColor(np.ascontiguousarray(to_rgba(page)), cv2.COLOR_RGBA2BGRA)


def cut_out(page, mask, out):
    """Into ``out`` (BGRA, zeros): the page's pixels where ``mask`` is set; strips without paint are not touched."""
    for top in range(0, mask.shape[0], STRIP_ROWS):
        rows = slice(top, top + STRIP_ROWS)
        if cv2.countNonZero(mask[rows]):
            cv2.copyTo(bgra_rows(page[rows]), mask[rows], out[rows])


def coloured(mask, colour, out):
    """Into ``out`` (BGRA, zeros): ``colour`` (RGB), opaque, where ``mask`` is set."""
    r, g, b = colour
    cv2.add(out, (b, g, r, 255), dst=out, mask=mask)


def write_bgra(out, path):
    """Write the BGRA buffer as an RGBA PNG straight to the file (no encoded copy in memory)."""
    if not cv2.imwrite(path, out, PNG_PARAMS):
        raise OSError(f"could not write {path}")


def plain_png(path):
    """Whether the file is a PNG whose decoded pixels ``save_png`` would write unchanged (grey, RGB, RGBA)."""
    with open(path, "rb") as stream:
        head = stream.read(26)
    return len(head) == 26 and head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR" and head[25] in (0, 2, 6)


class Pixel(RodanTask):
    name = "Pixel_js"
    author = "Rodan team"
    description = ("Separate a page into layers by hand in the browser (music symbols, staff lines, text, ...): "
                   "each layer is written as the page's pixels where it was painted.")
    category = "Diva - Pixel.js"
    interactive = True
    settings = SETTINGS
    input_port_types = [kit.port(IMAGE, _is_image, 1, 1)] + [
        kit.port(LAYER_INPUT.format(n), [RGBA], 0, 1) for n in range(1, ops.MAX_LAYERS + 1)
    ]
    output_port_types = (
        [kit.port("ZIP", ["application/zip"], 1, 1)]
        + [kit.port(LAYER_OUTPUT.format(n), [RGBA], 0, 1) for n in range(1, ops.MAX_LAYERS + 1)]
        + [kit.port("Background", [RGBA], 0, 1), kit.port("Region", [RGBA], 0, 1)]
    )

    # -- the page ----------------------------------------------------------------
    def get_my_interface(self, inputs, settings):
        width, height = page_size(inputs[IMAGE][0]["resource_path"])
        layer_ports = connected_layer_ports(inputs)
        config = {
            "name": inputs[IMAGE][0].get("resource_name") or IMAGE,
            "width": width,
            "height": height,
            "layerInputs": layer_ports,
            "maxLayers": ops.MAX_LAYERS,
            "colours": {"region": REGION_COLOUR, "layers": LAYER_COLOURS},
            "imagePort": IMAGE,
        }
        build = Path(__file__).parent / "static" / "build" / "pixel.js"
        version = int(build.stat().st_mtime) if build.exists() else 0
        return "templates/index.html", {
            "config": config,
            "built": build.exists(),
            "version": version,
            "layer_urls": [inputs[port][0].get("resource_url", "") for port in layer_ports],
        }

    # -- the submission ----------------------------------------------------------
    def validate_my_user_input(self, inputs, settings, user_input):
        width, height = page_size(inputs[IMAGE][0]["resource_path"])
        ports = connected_layer_ports(inputs)
        for port in ports:
            size = page_size(inputs[port][0]["resource_path"])
            if size != (width, height):
                raise ManualPhaseException(
                    f"{port} is {size[0]} x {size[1]} pixels but the page is {width} x {height}: "
                    "the workflow must give this job a layer of the page's size."
                )
        connected = len(ports)
        images = user_input.get("user_input") if isinstance(user_input, dict) else user_input
        if isinstance(images, list):
            ops.check_rodan_layers(images, connected, width, height)
            return {"@done": True, "@user_input": images}
        if not isinstance(user_input, dict) or "operations" not in user_input:
            raise ManualPhaseException(
                'Send {"layers": <1-7>, "operations": [...]} (the page\'s edits), '
                'or Rodan\'s {"user_input": [PNG data URL, ...]}.'
            )
        layers = ops.check_layer_count(user_input.get("layers"), connected)
        ops.check_operations(user_input["operations"], layers, width, height)
        return {"@done": True, "@layers": layers, "@operations": user_input["operations"]}

    # -- the work ----------------------------------------------------------------
    def run_my_task(self, inputs, settings, outputs):
        if not settings.get("@done"):
            return WAITING_FOR_INPUT()
        as_mask = bool(kit.setting(settings, SETTINGS, OUTPUT_MASK))
        with self.tempdir() as scratch:
            archive = os.path.join(scratch, "pixel.zip")
            # Three threads: this one rasterises each layer and cuts it out, the encoder writes its PNG while the
            # next one is rasterised, the storer copies each file into the ZIP and onto its outputs meanwhile.
            # One output image at a time (``settle`` waits for the encoder), and none while a fill or a paste is
            # rasterised, which needs the page's luma or another layer's mask.
            with (zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as package,
                  ThreadPoolExecutor(1) as encoder, ThreadPoolExecutor(1) as storer):
                stored = []

                def store(path, entry, port):
                    package.write(path, entry)
                    for target in outputs.get(port, ()):
                        shutil.copyfile(path, target["resource_path"])
                    os.unlink(path)

                source = inputs[IMAGE][0]["resource_path"]
                if plain_png(source):  # the same pixels as encoding them again, 5 s less on 100 MP
                    stored.append(storer.submit(package.write, source, ZIP_IMAGE))
                page = kit.load(inputs, IMAGE)
                if not plain_png(source):
                    page_png = os.path.join(scratch, ZIP_IMAGE)
                    save_png(page, page_png, "image/png")
                    stored.append(storer.submit(store, page_png, ZIP_IMAGE, None))

                def encode(entry, port, image, submitted, path):
                    if submitted is not None:  # Rodan's shape with Output Mask: the layer PNG itself
                        save_png(submitted, path, RGBA)
                    else:
                        write_bgra(image, path)
                    stored.append(storer.submit(store, path, entry, port))

                encoding = None

                def settle():
                    if encoding is not None:
                        encoding.result()

                written = {"ZIP"}
                layers = self._layers(inputs, settings, page, as_mask, settle)
                for index, (entry, port, colour, mask, submitted) in enumerate(layers):
                    settle()
                    image = None
                    if submitted is None:
                        # Zeroed lazily by the system: only the strips a layer paints are ever touched.
                        image = np.zeros(page.shape[:2] + (4,), np.uint8)
                        if as_mask:
                            coloured(mask, colour, image)
                        else:
                            cut_out(page, mask, image)
                    path = os.path.join(scratch, f"layer-{index}.png")
                    encoding = encoder.submit(encode, entry, port, image, submitted, path)
                    written.add(port)
                    del mask, submitted, image
                settle()
                for done in stored:
                    done.result()
            # A connected layer output beyond the submitted layers gets an empty (transparent) layer.
            for port in set(outputs) - written:
                kit.write_png(outputs, port, np.zeros(page.shape[:2] + (4,), np.uint8))
            for target in outputs.get("ZIP", ()):
                shutil.copyfile(archive, target["resource_path"])
        return True

    def _layers(self, inputs, settings, page, as_mask, settle):
        """(ZIP entry, output port, colour, mask, submitted RGBA or None): the region, each layer, the background.

        The background starts as the region and loses each layer in turn, so
        only it and the layer being written are held, never all the masks.
        """
        shape = page.shape[:2]
        if "@user_input" in settings:  # Rodan's shape: the PNGs themselves
            images = settings["@user_input"]
            count = len(images) - 2
            region, image = ops.read_rodan_image(images[-1], as_mask)
            yield ZIP_REGION, "Region", REGION_COLOUR, region, image
            del region, image
            for k in range(1, count + 1):
                mask, image = ops.read_rodan_image(images[k], as_mask)
                yield ZIP_LAYER.format(k), LAYER_OUTPUT.format(k), LAYER_COLOURS[k - 1], mask, image
                del mask, image
            background, image = ops.read_rodan_image(images[0], as_mask)
            yield ZIP_BACKGROUND, "Background", BACKGROUND_COLOUR, background, image
            return
        count, edits = settings["@layers"], settings["@operations"]
        ports = connected_layer_ports(inputs)

        def start(layer):
            if layer != ops.REGION and layer <= len(ports):
                entry = inputs[ports[layer - 1]][0]
                return input_mask(entry["resource_path"], entry.get("resource_name") or ports[layer - 1])
            return np.zeros(shape, np.uint8)

        masks = ops.Rasteriser(edits, shape, start, lambda: ops.page_luma(page))
        background = masks.layer(ops.REGION)
        yield ZIP_REGION, "Region", REGION_COLOUR, background, None
        for k in range(1, count + 1):
            if masks.heavy(k):
                settle()
            mask = masks.layer(k)
            cv2.subtract(background, mask, dst=background)
            yield ZIP_LAYER.format(k), LAYER_OUTPUT.format(k), LAYER_COLOURS[k - 1], mask, None
            del mask
        yield ZIP_BACKGROUND, "Background", BACKGROUND_COLOUR, background, None
