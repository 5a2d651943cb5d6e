"""White-Rohrer threshold: the fast engine gives Gamera 4.1.0's pixels, and the job runs on both engines.

Gamera reads past the end of the image (see ``jobs.gamera.fast.white_rohrer``);
the reference here is Gamera with white rows below the page in memory, as
the job's Gamera engine runs it, so that its output is deterministic.
"""

import numpy as np
import pytest
from gamera_pages import _page, pages

from rodan.jobs.gamera import binarization, engine
from rodan.jobs.gamera.fast import white_rohrer
from rodan.imaging import ImageError, load_image, save_png

GREY = "image/greyscale+png"


def larger_pages(seed=11):
    """Pages long enough for the chunked running average, including ones where it never forgets its start."""
    rng = np.random.default_rng(seed)
    flat = np.full((120, 150), 200, np.uint8)
    dark_band = flat.copy()
    dark_band[40:60] = 3  # averages near 0 meeting bright paper: where XITE's f table is not monotone
    return [
        ("page-wide", _page(rng, 90, 301)),
        ("page-tall", _page(rng, 257, 64)),
        ("flat", flat),
        ("dark-band", dark_band),
        ("noise", rng.integers(0, 256, (100, 123), dtype=np.uint8)),
        ("gradient", np.add.outer(np.arange(130), np.arange(140)).clip(0, 255).astype(np.uint8)),
    ]


CORPUS = pages() + larger_pages()
ids = [name for name, _ in CORPUS]

# (x lookahead, y lookahead, bias mode, bias factor, f factor, g factor)
SETTINGS = [
    (8, 1, 0, 100, 100, 100),
    (0, 0, 0, 100, 100, 100),
    (3, 2, 0, 100, 100, 100),
    (1000, 1, 0, 100, 100, 100),  # wraps modulo the width
    (8, 1, 15, 100, 100, 100),
    (8, 1, -30, 80, 100, 100),
    (8, 1, 0, -20, 100, 100),
    (20, 3, 0, 100, 50, 150),
    (1, 0, 0, 300, 199, 199),
    (8, 1, 0, 100, 30, 10),  # averages that barely move: the pixel-by-pixel path
    (8, 1, 0, 100, 1, 0),  # Y never moves
    (8, 1, 0, 100, 2, 100),  # f factors up to 14: Y followed from change to change
    (8, 1, 0, 100, 10, 100),
    (5, 2, 20, 100, 14, 60),  # bias mode given: Y starts at 0 and climbs
]


def same(ours, theirs):
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    differing = int(np.count_nonzero(ours != theirs))
    assert differing == 0, f"{differing} of {ours.size} pixels differ"


@pytest.mark.parametrize("settings", SETTINGS, ids=str)
@pytest.mark.parametrize("grey", [g for _, g in CORPUS], ids=ids)
def test_fast_equals_gamera(grey, settings):
    if settings[1] >= grey.shape[0]:
        with pytest.raises(ImageError, match="y lookahead"):
            white_rohrer.white_rohrer_threshold(grey, *settings)
        return
    same(white_rohrer.white_rohrer_threshold(grey, *settings), binarization.gamera_white_rohrer(grey, *settings))


@pytest.mark.parametrize("chunk", [7, 64])
@pytest.mark.parametrize("grey", [g for _, g in larger_pages(12)], ids=[n for n, _ in larger_pages(12)])
def test_small_chunks_stitch_exactly(grey, chunk, monkeypatch):
    """Many short chunks: most start unpinned, so narrowed bounds and the stitching of tried starts decide; small f factors
    take the longer chunks or the pixel-by-pixel path, the smallest (up to 14) follow Y from change to change."""
    monkeypatch.setattr(white_rohrer, "CHUNK", chunk)
    monkeypatch.setattr(white_rohrer, "SHORT_STREAM", 0)
    for settings in [(8, 1, 0, 100, 100, 100), (2, 1, 0, 100, 60, 120), (8, 1, 0, 100, 35, 100), (8, 1, 0, 100, 5, 100)]:
        same(white_rohrer.white_rohrer_threshold(grey, *settings), binarization.gamera_white_rohrer(grey, *settings))


@pytest.mark.parametrize("f_factor", [100, 14, 10, 5, 2, 0])
@pytest.mark.parametrize("start", [17, 0, 255])
def test_running_average_follows_the_table_pixel_by_pixel(f_factor, start):
    rng = np.random.default_rng(5)
    stream = np.concatenate([rng.integers(0, 256, 20_000), np.full(9_000, 255), rng.integers(0, 30, 9_000),
                             np.tile([0, 255], 3_000), rng.integers(200, 256, 5_000)])
    table = white_rohrer._step(white_rohrer._F_HALF, f_factor)
    expected, y = [], start
    for p in stream.tolist():
        y = int(table[p, y])
        expected.append(y)
    assert white_rohrer.running_average(stream.astype(np.uint8), start, f_factor).tolist() == expected


def test_small_f_factors_change_the_average_rarely():
    """What the change-to-change path relies on: up to f factor 14 the moves form no cycle, and every
    state's still pixels are one interval (for every factor, so the test also guards the tables)."""
    assert [f for f in range(white_rohrer.MAX_FACTOR + 1) if white_rohrer._changes_are_few(f)] == list(range(15))
    for f_factor in range(white_rohrer.MAX_FACTOR + 1):
        table = white_rohrer._step(white_rohrer._F_HALF, f_factor)
        still = table == np.arange(256)
        first, span = white_rohrer._still_ranges(table)
        ranges = np.arange(256)[:, None] - first.astype(int)
        assert np.array_equal(still, (ranges >= 0) & (ranges <= span.astype(int)))


@pytest.mark.parametrize(
    "array, settings, message",
    [
        (np.zeros((5, 5, 3), np.uint8), (), "expected an 8-bit greyscale image, got an RGB colour image"),
        (np.zeros((5, 5), bool), (), "expected an 8-bit greyscale image, got a one-bit"),
        (np.zeros((1, 40), np.uint8), (), "a y lookahead of 1 needs an image more than 1 rows high"),
        (np.zeros((9, 9), np.uint8), (-1, 1), "lookahead must be between 0 and 1000000"),
        (np.zeros((9, 9), np.uint8), (8, 1, 0, 100, 200, 100), "f factor must be between 0 and 199"),
        (np.zeros((9, 9), np.uint8), (8, 1, 0, 100, 100, -1), "g factor must be between 0 and 199"),
        (np.zeros((9, 9), np.uint8), (8, 1, 0, 10**7), "bias factor must be between"),
    ],
)
def test_bad_input_is_refused_with_a_sentence(array, settings, message):
    with pytest.raises(ImageError, match=message):
        white_rohrer.white_rohrer_threshold(array, *settings)


def test_one_row_image_works_without_y_lookahead():
    row = np.array([[10, 200, 30, 250, 0, 90, 180]], np.uint8)
    same(white_rohrer.white_rohrer_threshold(row, 2, 0), binarization.gamera_white_rohrer(row, 2, 0, 0, 100, 100, 100))


@pytest.mark.parametrize("chosen", engine.ENGINES)
def test_job_on_each_engine(chosen, tmp_path, monkeypatch):
    monkeypatch.setenv(engine.ENGINE_ENV, chosen)
    grey = pages()[-1][1]
    source = tmp_path / "page"
    save_png(grey, str(source), GREY)
    inputs = {"Greyscale PNG image": [{"resource_path": str(source), "resource_type": GREY, "resource_name": "page"}]}
    outputs = {"Onebit PNG image": [{"resource_path": str(tmp_path / f"out{i}"), "resource_type": "image/onebit+png"}
                                    for i in range(2)]}
    job = binarization.WhiteRohrerThreshold()
    job.run_my_task(inputs, {"X lookahead": 5, "Bias mode": 10}, outputs)
    expected = white_rohrer.white_rohrer_threshold(grey, 5, 1, 10, 100, 100, 100)
    for entry in outputs["Onebit PNG image"]:
        same(load_image(entry["resource_path"]), expected)

    save_png(grey[:1], str(source), GREY)
    with pytest.raises(ImageError, match="y lookahead of 1 needs an image more than 1 rows high"):
        job.run_my_task(inputs, {}, outputs)


@pytest.mark.parametrize("installed", [True, False])
def test_job_runs_gamera_for_the_f_factors_where_it_is_faster(installed, tmp_path, monkeypatch):
    """f factors 15-20 run Gamera's loop on the fast engine when Gamera is installed, the fast path otherwise;
    both give the same pixels."""
    monkeypatch.delenv(engine.ENGINE_ENV, raising=False)
    grey = pages()[-1][1]
    f_factors = (14, 15, 20, 21)
    expected = [binarization.gamera_white_rohrer(grey, 8, 1, 0, 100, f, 100) for f in f_factors]
    calls = []
    gamera = binarization.gamera_white_rohrer
    monkeypatch.setattr(binarization, "gamera_white_rohrer", lambda *args: calls.append(args[5]) or gamera(*args))
    if not installed:
        monkeypatch.setattr(engine, "gamera_core", _unavailable)
    source = tmp_path / "page"
    save_png(grey, str(source), GREY)
    inputs = {"Greyscale PNG image": [{"resource_path": str(source), "resource_type": GREY, "resource_name": "page"}]}
    out = tmp_path / "out"
    for f_factor, pixels in zip(f_factors, expected):
        outputs = {"Onebit PNG image": [{"resource_path": str(out), "resource_type": "image/onebit+png"}]}
        binarization.WhiteRohrerThreshold().run_my_task(inputs, {"F factor": f_factor}, outputs)
        same(load_image(str(out)), pixels)
    assert calls == ([15, 20] if installed else [])


def _unavailable():
    raise engine.GameraUnavailable("not installed here")


@pytest.mark.parametrize("settings", [(8, 1, 0, 100, 100, 100), (3, 4, 0, 100, 60, 100), (0, 0, 12, 100, 100, 100)],
                         ids=str)
@pytest.mark.parametrize("grey", [g for _, g in larger_pages()], ids=[n for n, _ in larger_pages()])
def test_raw_gamera_agrees_above_the_rows_its_stray_reads_reach(grey, settings):
    """Gamera alone (no white rows below the page) reads memory past the image; that decides at most
    the pixels of the last y_lookahead + 2 rows, and only there may it differ from the fast engine."""
    raw = engine.from_gamera(engine.to_gamera(grey).white_rohrer_threshold(*settings))
    reached = settings[1] + 2
    same(white_rohrer.white_rohrer_threshold(grey, *settings)[:-reached], raw[:-reached])
