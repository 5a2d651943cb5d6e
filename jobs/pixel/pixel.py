"""The ``Pixel_js`` job with Rodan's contract (rodan-compat.md §7.2).

The first run waits for the user. The page submits the user's edits (or,
from Rodan's own page, one PNG per layer); ``validate_my_user_input`` checks
them and keeps them as the job's ``@`` state; the re-run turns them into a
mask per layer at full resolution and writes each layer as the original's
pixels where painted, transparent elsewhere (or, with ``Output Mask``, the
mask itself in the layer's colour), the background (the selected region
minus every layer), the region, and a ZIP of them all with Rodan's names.

Layers are made one at a time, so the worker holds the original, one
output and three masks at once, not every layer (plus the page's luma when
there is a fill, and a mask per level of pastes).
"""

import os
import shutil
import zipfile
from pathlib import Path

import cv2
import numpy as np

from rodan.imaging import load_image, save_png, to_rgba
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


def coloured(mask, colour):
    """An RGBA image of ``mask`` in ``colour``, opaque where set and transparent elsewhere."""
    out = np.zeros(mask.shape + (4,), np.uint8)
    out[mask > 0] = (*colour, 255)
    return out


def cut_out(original, mask):
    """The original's pixels where ``mask`` is set, fully transparent elsewhere."""
    return cv2.bitwise_and(original, original, mask=mask)  # 3-4 times NumPy's masked copy on a large page


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
            with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as package:
                page = kit.load(inputs, IMAGE)
                page_png = os.path.join(scratch, ZIP_IMAGE)
                save_png(page, page_png, "image/png")
                package.write(page_png, ZIP_IMAGE)
                os.unlink(page_png)
                original = to_rgba(page)
                del page  # only the RGBA copy is needed from here on

                written = {"ZIP"}
                for entry, port, colour, mask, submitted in self._layers(inputs, settings, original):
                    if not as_mask:
                        image = cut_out(original, mask)
                    else:
                        image = submitted if submitted is not None else coloured(mask, colour)
                    path = os.path.join(scratch, "layer.png")
                    save_png(image, path, RGBA)
                    del image
                    package.write(path, entry)
                    for target in outputs.get(port, ()):
                        shutil.copyfile(path, target["resource_path"])
                    written.add(port)
            # A connected layer output beyond the submitted layers gets an empty (transparent) layer.
            for port in set(outputs) - written:
                kit.write_png(outputs, port, np.zeros(original.shape, np.uint8))
            for target in outputs.get("ZIP", ()):
                shutil.copyfile(archive, target["resource_path"])
        return True

    def _layers(self, inputs, settings, original):
        """(ZIP entry, output port, colour, mask, submitted RGBA or None): each layer, the region, the background."""
        shape = original.shape[:2]
        union = np.zeros(shape, np.uint8)
        if "@user_input" in settings:  # Rodan's shape: the PNGs themselves
            images = settings["@user_input"]
            count = len(images) - 2
            region, region_image = ops.read_rodan_image(images[-1])
            for k in range(1, count + 1):
                mask, image = ops.read_rodan_image(images[k])
                np.maximum(union, mask, out=union)
                yield ZIP_LAYER.format(k), LAYER_OUTPUT.format(k), LAYER_COLOURS[k - 1], mask, image
            background_mask, background_image = ops.read_rodan_image(images[0])
        else:
            count, edits = settings["@layers"], settings["@operations"]
            ports = connected_layer_ports(inputs)

            def start(layer):
                if layer != ops.REGION and layer <= len(ports):
                    entry = inputs[ports[layer - 1]][0]
                    return input_mask(entry["resource_path"], entry.get("resource_name") or ports[layer - 1])
                return np.zeros(shape, np.uint8)

            masks = ops.Rasteriser(edits, shape, start, lambda: ops.luma(original))
            region = masks.mask(ops.REGION)
            for k in range(1, count + 1):
                mask = masks.mask(k)
                np.maximum(union, mask, out=union)
                yield ZIP_LAYER.format(k), LAYER_OUTPUT.format(k), LAYER_COLOURS[k - 1], mask, None
            region_image = background_image = None
        yield ZIP_REGION, "Region", REGION_COLOUR, region, region_image
        if background_image is None:
            background_mask = np.where((region > 0) & (union == 0), np.uint8(255), np.uint8(0))
        yield ZIP_BACKGROUND, "Background", BACKGROUND_COLOUR, background_mask, background_image
