"""The fast engine gives Gamera 4.1.0's pixels exactly, on generated pages and setting combinations.

Gamera is a test dependency (``make install-test`` builds it): these tests
compare against Gamera itself, never against stored expectations.
"""

import numpy as np
import pytest
from gamera_pages import onebit_pages, pages

from rodan.jobs.gamera import fast
from rodan.jobs.gamera.common import run_gamera
from rodan.imaging import ImageError

PAGES = pages()
ONEBIT = onebit_pages()
ids = [name for name, _ in PAGES]
onebit_ids = [name for name, _ in ONEBIT]


def same(ours, theirs):
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    differing = int(np.count_nonzero(ours != theirs))
    assert differing == 0, f"{differing} of {ours.size} pixels differ"


def compare_or_refuse(region, grey, ours, gamera_method, args):
    """Equal pixels when the region fits the image; otherwise both engines refuse."""
    if 1 <= region <= min(grey.shape):
        same(ours(), run_gamera(gamera_method, grey, args=args))
    else:
        with pytest.raises(ImageError, match="region size"):
            ours()
        with pytest.raises(Exception):
            run_gamera(gamera_method, grey, args=args)


SAUVOLA = [(15, 0.5, 128, 20, 150), (3, 0.5, 128, 0, 255), (2, 0.2, 1, 0, 255), (1, 0.5, 255, 0, 255),
           (31, -0.3, 64, 10, 200), (9, 1.5, 128, 255, 255), (4, 0.0, 7, 0, 0)]


@pytest.mark.parametrize("settings", SAUVOLA)
@pytest.mark.parametrize("grey", [g for _, g in PAGES], ids=ids)
def test_sauvola(grey, settings):
    compare_or_refuse(settings[0], grey, lambda: fast.sauvola_threshold(grey, *settings), "sauvola_threshold", settings)


@pytest.mark.parametrize("grey", [g for _, g in PAGES], ids=ids)
def test_sauvola_and_niblack_on_float64_integrals(grey, monkeypatch):
    """Pages summing to 2^31 or more (bright A4 scans) take the float64 integral: same pixels."""
    monkeypatch.setattr(fast, "INT32_INTEGRAL_LIMIT", 0)
    region = min(15, *grey.shape)
    same(fast.sauvola_threshold(grey, region), run_gamera("sauvola_threshold", grey, args=(region, 0.5, 128, 20, 150)))
    same(fast.niblack_threshold(grey, region, -0.2, 0, 255), run_gamera("niblack_threshold", grey, args=(region, -0.2, 0, 255)))


NIBLACK = [(15, -0.2, 20, 150), (3, 0.0, 0, 255), (2, 0.7, 0, 255), (1, -0.2, 0, 255), (31, -1.5, 5, 250),
           (8, 0.3, 255, 255)]


@pytest.mark.parametrize("settings", NIBLACK)
@pytest.mark.parametrize("grey", [g for _, g in PAGES], ids=ids)
def test_niblack(grey, settings):
    compare_or_refuse(settings[0], grey, lambda: fast.niblack_threshold(grey, *settings), "niblack_threshold", settings)


BERNSEN = [(11, 80, False), (11, 80, True), (1, 0, False), (1, 2, True), (2, 0, False), (3, 1, True),
           (7, 255, False), (50, 30, False), (16, 0, True)]


@pytest.mark.parametrize("settings", BERNSEN)
@pytest.mark.parametrize("grey", [g for _, g in PAGES], ids=ids)
def test_bernsen(grey, settings):
    region, contrast, doubt = settings
    compare_or_refuse(
        region, grey, lambda: fast.bernsen_threshold(grey, region, contrast, doubt), "bernsen_threshold",
        (0, region, contrast, doubt),
    )


@pytest.mark.parametrize("grey", [g for _, g in PAGES], ids=ids)
def test_otsu(grey):
    assert fast.otsu_find_threshold(grey) == run_gamera_threshold(grey)
    same(fast.otsu_threshold(grey), run_gamera("otsu_threshold", grey, args=(0,)))


def run_gamera_threshold(grey):
    from rodan.jobs.gamera.engine import to_gamera

    return to_gamera(grey).otsu_find_threshold()


def preliminary(grey):
    """A preliminary binarization as a workflow would make it (Gamera's Niblack, small window)."""
    region = min(5, *grey.shape)
    return run_gamera("niblack_threshold", grey, args=(region, -0.2, 20, 150))


@pytest.mark.parametrize("region", [1, 2, 15, 40])
@pytest.mark.parametrize("grey", [g for _, g in PAGES], ids=ids)
def test_gatos_background(grey, region):
    binarization = preliminary(grey)
    if region <= min(grey.shape):
        theirs = run_gamera("gatos_background", grey, binarization, args=(region,))
        same(fast.gatos_background(grey, binarization, region), theirs)
    else:
        with pytest.raises(ImageError, match="region size"):
            fast.gatos_background(grey, binarization, region)


@pytest.mark.parametrize("params", [(0.6, 0.5, 0.8), (1.0, 0.1, 0.3), (0.2, 0.9, 0.99), (2.0, -0.5, 0.0)])
@pytest.mark.parametrize("grey", [g for _, g in PAGES], ids=ids)
def test_gatos_threshold(grey, params):
    binarization = preliminary(grey)
    background = run_gamera("gatos_background", grey, binarization, args=(min(15, *grey.shape),))
    same(
        fast.gatos_threshold(grey, background, binarization, *params),
        run_gamera("gatos_threshold", grey, background, binarization, args=params),
    )


@pytest.mark.parametrize("size", [1, 2, 3, 5, 20])
@pytest.mark.parametrize("onebit", [o for _, o in ONEBIT], ids=onebit_ids)
def test_despeckle(onebit, size):
    same(fast.despeckle(onebit, size), run_gamera("despeckle", onebit, args=(size,)))


@pytest.mark.parametrize("onebit", [o for _, o in ONEBIT], ids=onebit_ids)
def test_dilate(onebit):
    same(fast.dilate(onebit), run_gamera("dilate", onebit))


@pytest.mark.parametrize("method, combine", [("and_image", np.logical_and), ("xor_image", np.logical_xor)])
def test_masks_combine_ink(method, combine):
    source, mask = ONEBIT[-2][1][:30, :30], ONEBIT[-3][1][:30, :30]
    same(~combine(~source, ~mask), run_gamera(method, source, mask))


@pytest.mark.parametrize("image", [pages()[-1][1], ONEBIT[-1][1], np.stack([pages()[-1][1]] * 3, axis=2)],
                         ids=["greyscale", "onebit", "rgb"])
def test_invert_is_complement(image):
    same(~image, run_gamera("invert", image))



def test_one_bit_arrays_decoded_by_pillow_store_true_as_255(tmp_path):
    """Pillow's bool arrays hold 255 for True; the fast engine must read them as booleans."""
    from rodan.imaging import load_image, save_png

    grey = PAGES[-1][1]
    save_png(grey > 128, str(tmp_path / "onebit"), "image/onebit+png")
    binarization = load_image(str(tmp_path / "onebit"))
    same(fast.gatos_background(grey, binarization, 15), run_gamera("gatos_background", grey, binarization, args=(15,)))
    background = run_gamera("gatos_background", grey, binarization, args=(15,))
    same(fast.gatos_threshold(grey, background, binarization), run_gamera("gatos_threshold", grey, background, binarization, args=(0.6, 0.5, 0.8)))
    for size in (1, 3):
        same(fast.despeckle(binarization, size), run_gamera("despeckle", binarization, args=(size,)))
    same(fast.dilate(binarization), run_gamera("dilate", binarization))
