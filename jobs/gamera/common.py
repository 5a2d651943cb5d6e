"""What the Gamera jobs share beyond ``rodan.jobs.kit``: Rodan's schema conventions and the bridge call.

Inputs go through ``kit.load``, which checks the pixel type a port promises
before any work, so an RGB page on a one-bit port fails with a sentence
instead of a Gamera type error.
"""

from rodan.jobs import kit

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


def settings_schema(title=None, **properties):
    """A Gamera job's schema on the Python3 queue; a job with no title and no properties declares the queue alone, as Rodan's do."""
    if title is None and not properties:
        return {"job_queue": QUEUE}
    return kit.settings_schema(QUEUE, title, properties or None)


def run_gamera(method, *arrays, args=()):
    """Call Gamera's plugin ``method`` on the first array (the others are passed first in ``args``)."""
    images = [engine.to_gamera(array) for array in arrays]
    result = getattr(images[0], method)(*images[1:], *args)
    return engine.from_gamera(images[0] if result is None else result)
