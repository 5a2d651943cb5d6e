"""Connected components without Gamera (``jobs.gamera.fast.components``): CC Analysis writes Gamera
4.1.0's XML byte for byte, and Despeckle removes the same pixels.

Every page is compared with Gamera's own ``cc_analysis``,
``gamera_xml.WriteXMLFile`` and ``despeckle``, never with stored results.
"""

import io

import numpy as np
import pytest
from gamera_pages import _page, onebit_pages

from rodan.jobs.gamera import engine, fast
from rodan.jobs.gamera.common import run_gamera
from rodan.jobs.gamera.fast import components
from rodan.imaging import ImageError, load_image, save_png


def gamera_xml_text(onebit):
    """The file Rodan's CC Analysis writes, from Gamera itself."""
    image = engine.to_gamera(onebit)
    from gamera import gamera_xml

    stream = io.StringIO()
    gamera_xml.WriteXMLFile(glyphs=image.cc_analysis(), with_features=True).write_stream(stream)
    return stream.getvalue()


def special_pages():
    """(name, bool array) pairs aimed at labelling order, connectivity, box edges and long run lists."""
    rng = np.random.default_rng(11)
    out = [
        ("1x1-white", np.ones((1, 1), bool)),
        ("1x40", rng.random((1, 40)) < 0.5),
        ("40x1", rng.random((40, 1)) < 0.5),
        ("all-black", np.zeros((23, 17), bool)),
        ("all-white", np.ones((23, 17), bool)),
    ]
    diagonal = np.ones((12, 12), bool)
    np.fill_diagonal(diagonal, False)
    np.fill_diagonal(diagonal[:, ::-1], False)  # an X: joined only through diagonal steps
    out.append(("diagonal-x", diagonal))
    # A U whose arms get different labels, merged at the bottom, and a later, higher-left mark.
    u = np.ones((10, 12), bool)
    u[0:8, 1] = u[0:8, 9] = u[7, 1:10] = False
    u[3, 4:6] = False
    u[9, 0] = False
    out.append(("u-merge", u))
    # Staircases whose first pixels sit in one row, right to left, and whose boxes end on white.
    stairs = np.ones((9, 30), bool)
    for start in (24, 14, 4):
        for step in range(5):
            stairs[step, start + step] = False
    out.append(("staircases", stairs))
    # Nested rings and a spiral: components inside other components' boxes.
    rings = np.ones((41, 41), bool)
    for radius in range(2, 20, 4):
        rings[20 - radius, 20 - radius : 21 + radius] = rings[20 + radius, 20 - radius : 21 + radius] = False
        rings[20 - radius : 21 + radius, 20 - radius] = rings[20 - radius : 21 + radius, 20 + radius] = False
    out.append(("rings", rings))
    # Borders: marks on every edge and corner; a comb with many runs (lines folded at 78 columns).
    border = rng.random((30, 50)) >= 0.2
    border[1:-1, 1:-1] = True
    out.append(("border-marks", border))
    comb = np.ones((60, 300), bool)
    comb[:, ::3] = False
    comb[0, :] = False
    out.append(("comb", comb))
    # Runs that continue from one row of the box into the next.
    wrap = np.ones((6, 8), bool)
    wrap[1, 5:] = wrap[2, :3] = wrap[1:3, 3:5] = False
    out.append(("row-wrap", wrap))
    for density in (0.05, 0.3, 0.5, 0.7):
        out.append((f"random-{density}", rng.random((70, 90)) >= density))
    grey = _page(rng, 300, 420)
    out.append(("page-sauvola", fast.sauvola_threshold(grey)))
    out.append(("page-otsu", fast.otsu_threshold(grey)))
    return out


PAGES = onebit_pages() + special_pages()


@pytest.mark.parametrize("onebit", [page for _, page in PAGES], ids=[name for name, _ in PAGES])
def test_xml_is_gameras_byte_for_byte(onebit):
    ours = components.cc_analysis_xml(onebit)
    theirs = gamera_xml_text(onebit)
    assert ours.encode() == theirs.encode()


def test_word_wrap_is_gameras():
    from gamera.util import word_wrap

    rng = np.random.default_rng(3)
    for _ in range(200):
        text = " ".join(str(v) for v in rng.integers(0, 10 ** int(rng.integers(1, 9)), int(rng.integers(0, 60)))) + " "
        indent = int(rng.integers(0, 6))
        stream = io.StringIO()
        word_wrap(stream, text, indent)
        assert components.word_wrap(text, indent) == stream.getvalue()
    long_word = "9" * 90
    stream = io.StringIO()
    word_wrap(stream, long_word, 4)
    assert components.word_wrap(long_word, 4) == stream.getvalue()


def dots(count):
    """A page with ``count`` isolated single-pixel marks: one Gamera label each."""
    onebit = np.ones((512, 512), bool)
    rows, cols = np.divmod(np.arange(count), 256)
    onebit[2 * rows, 2 * cols] = False
    return onebit


def test_the_last_label_gamera_has_is_used():
    onebit = dots(65533)
    assert components.cc_analysis_xml(onebit) == gamera_xml_text(onebit)


def test_a_page_beyond_gameras_labels_is_refused_like_gamera():
    onebit = dots(65534)
    with pytest.raises(RuntimeError, match="Max label exceeded"):
        engine.to_gamera(onebit).cc_analysis()
    with pytest.raises(ImageError, match="too many separate black marks"):
        components.cc_analysis(onebit)


def test_non_onebit_input_is_a_clear_error():
    with pytest.raises(ImageError, match="expected a one-bit"):
        components.cc_analysis(np.zeros((4, 4), np.uint8))


@pytest.mark.parametrize("size", [3, 4, 9, 20, 100, 10**6])
@pytest.mark.parametrize("onebit", [page for _, page in PAGES], ids=[name for name, _ in PAGES])
def test_despeckle_by_runs_is_gameras(onebit, size):
    theirs = run_gamera("despeckle", onebit, args=(size,))
    assert np.array_equal(fast.despeckle(onebit, size), theirs)


def test_despeckle_of_a_decoded_png_is_gameras(tmp_path):
    """Pillow's one-bit arrays store True as 255; the run-based despeckle must read them as booleans."""
    page = fast.sauvola_threshold(_page(np.random.default_rng(12), 200, 300))
    save_png(page, str(tmp_path / "page"), "image/onebit+png")
    decoded = load_image(str(tmp_path / "page"))
    for size in (3, 20):
        assert np.array_equal(fast.despeckle(decoded, size), run_gamera("despeckle", decoded, args=(size,)))


@pytest.mark.parametrize("chosen", ["fast", "gamera"])
def test_cc_analysis_job_refuses_too_many_marks_with_one_sentence_on_both_engines(chosen, tmp_path, monkeypatch):
    from rodan.jobs.gamera.classification import CCS, CCAnalysis

    monkeypatch.setenv(engine.ENGINE_ENV, chosen)
    save_png(dots(65534), str(tmp_path / "dots"), "image/onebit+png")
    inputs = {"1-Bit PNG Image": [{"resource_path": str(tmp_path / "dots"), "resource_type": "image/onebit+png"}]}
    outputs = {CCS: [{"resource_path": str(tmp_path / "out"), "resource_type": "application/gamera+xml"}]}
    with pytest.raises(ImageError, match="too many separate black marks"):
        CCAnalysis().run_my_task(inputs, {}, outputs)
