"""Which implementation runs a Gamera job, and the bridge to Gamera itself.

``RODAN_GAMERA_ENGINE`` chooses, per worker:

- ``fast`` (default): the NumPy/OpenCV implementations in ``rodan.jobs.gamera.fast``
  where one exists (same pixels as Gamera 4.1.0, tested), Gamera for the rest;
- ``gamera``: Gamera for every job, as Rodan runs them.

An environment variable rather than a job setting, because the settings
schemas must stay exactly Rodan's (rodan-compat.md §7.1). Gamera is imported
only when a job needs it, so the family imports, and its fast jobs run, on a
worker without Gamera; a job that needs Gamera there fails with a sentence
saying so.

Arrays cross the bridge in ``rodan.imaging``'s pixel types (one-bit: bool,
True = white); Gamera's one-bit images hold 1 for black.
"""

import functools
import os

import numpy as np

ENGINE_ENV = "RODAN_GAMERA_ENGINE"
ENGINES = ("fast", "gamera")


class GameraUnavailable(RuntimeError):
    """Gamera is needed by a job but not installed on this worker."""


def engine():
    """The engine chosen by ``RODAN_GAMERA_ENGINE``, read per call so operators and tests can switch."""
    value = os.environ.get(ENGINE_ENV, "").strip().lower() or "fast"
    if value not in ENGINES:
        raise ValueError(f"{ENGINE_ENV} must be one of {', '.join(ENGINES)}, not {value!r}")
    return value


def use_fast():
    """True when a job with a fast implementation should use it."""
    return engine() == "fast"


@functools.cache
def gamera_core():
    """``gamera.core`` with every plugin loaded (``init_gamera``), imported on first use."""
    try:
        from gamera import core
    except ImportError as exc:
        raise GameraUnavailable(
            "this job needs Gamera 4, which is not installed on this worker "
            "(install it with gamera4-rodan/build-wheels and pip install '.[gamera]')"
        ) from exc
    core.init_gamera()
    return core


def to_gamera(array):
    """A Gamera image of an array in one of rodan.imaging's pixel types (grey16 and RGBA excepted)."""
    from gamera.plugins import numpy_io

    gamera_core()
    if array.dtype == bool:
        return numpy_io.from_numpy((~array).astype(np.uint16))
    if array.dtype == np.uint16:
        return numpy_io.from_numpy(array.astype(np.uint32))
    return numpy_io.from_numpy(np.ascontiguousarray(array))


def from_gamera(image):
    """The array of a Gamera image: ONEBIT → bool (True = white), GREY16 → uint16, others as they are."""
    core = gamera_core()
    array = image.to_numpy()
    if image.data.pixel_type == core.ONEBIT:
        return array == 0
    if image.data.pixel_type == core.GREY16:
        return array.astype(np.uint16)
    return array
