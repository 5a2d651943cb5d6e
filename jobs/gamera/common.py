"""Ports, settings and I/O shared by the Gamera jobs.

Rodan's Gamera wrappers load each input with Gamera, call one plugin, and
save the result to every entry of the output list. Here inputs are decoded
by ``rodan.imaging`` (pixel limit, clear errors for corrupt files) and
checked against the pixel type the port promises before any work, so an RGB
page on a one-bit port fails with a sentence instead of a Gamera type error.
"""

from rodan.imaging import ImageError, convert_for, load_image, require_pixel_type, save_png

from . import engine

QUEUE = "Python3"
#: The port resource types Rodan's wrappers accept as "any PNG": rgb, onebit, greyscale, grey16.
ANY_PNG = ["image/rgb+png", "image/onebit+png", "image/greyscale+png", "image/grey16+png"]
STORAGE_FORMAT = {
    "enum": ["Dense (no compression)", "RLE (run-length encoding compression)"],
    "type": "string",
    "default": "Dense (no compression)",
    "description": "Specifies the compression type for the result.",
}


def port(name, resource_types, minimum=1, maximum=1):
    return {"name": name, "resource_types": list(resource_types), "minimum": minimum, "maximum": maximum}


def settings_schema(title=None, **properties):
    """A Rodan settings schema on the Python3 queue; no title and no properties gives "queue only"."""
    if title is None and not properties:
        return {"job_queue": QUEUE}
    schema = {"title": title, "type": "object", "job_queue": QUEUE}
    schema["properties"] = dict(properties)
    return schema


def setting(settings, schema, name):
    """A setting's value, or its schema default: Rodan does not re-apply defaults (rodan-compat.md §4.3)."""
    if name in settings:
        return settings[name]
    default = schema["properties"][name]["default"]
    enum = schema["properties"][name].get("enum")
    return enum.index(default) if enum else default


def load(inputs, port_name, *kinds):
    """The array of the single resource on ``port_name``, required to be one of ``kinds``."""
    entry = inputs[port_name][0]
    label = entry.get("resource_name") or port_name
    array = load_image(entry["resource_path"], label)
    try:
        return require_pixel_type(array, *kinds)
    except ImageError as exc:
        raise ImageError(f"{port_name} ({label}): {exc}") from None


def save(array, outputs, port_name):
    """Write ``array`` to every entry of the output port, each in its own PNG flavour."""
    for entry in outputs[port_name]:
        save_png(convert_for(array, entry["resource_type"]), entry["resource_path"], entry["resource_type"])


def run_gamera(method, *arrays, args=()):
    """Call Gamera's plugin ``method`` on the first array (the others are passed first in ``args``)."""
    images = [engine.to_gamera(array) for array in arrays]
    result = getattr(images[0], method)(*images[1:], *args)
    return engine.from_gamera(images[0] if result is None else result)
