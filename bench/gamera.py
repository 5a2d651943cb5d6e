"""Gamera jobs: Gamera 4.1.0 against the fast engine and other libraries, on one A4 page, one core.

    .venv/bin/python -m bench.gamera [--repeat 3]

Prints three Markdown tables: the algorithm alone (arrays in memory) with
Gamera's time, ours, the ratio, peers that implement the same method
(OpenCV, scikit-image, doxapy; "-" where none does or it is not installed)
and whether our pixels (for CC Analysis: the XML bytes) equal Gamera's; then
the whole job as a worker runs it (PNG decode, the work, PNG encode to one
output) on each engine; then PNG decode and encode per flavour (ours,
Pillow at level 1, Gamera's own reader and writer). The page is the
equality tests' generator at 2480 × 3508 (A4 at 300 dpi, 8.7 Mpx). A
peer's pixels are not compared: peers implement the papers' formulas, not
Gamera's.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "support"))

from gamera_pages import _page  # noqa: E402

from rodan.jobs.gamera import binarization, classification, conversion, engine, fast, masking, morphology, skew, threshold  # noqa: E402
from rodan.jobs.gamera.fast import skew as fast_skew, white_rohrer  # noqa: E402
from rodan.jobs.gamera.fast import components, global_thresholds  # noqa: E402
from rodan.jobs.gamera.fast import conversion as fast_conversion  # noqa: E402
from rodan.imaging import load_image, save_png  # noqa: E402

A4 = (3508, 2480)


def best_time(function, repeat):
    """Best wall time of ``repeat`` calls in seconds, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def peers():
    """{algorithm: [(library, callable on the grey page)]} for the libraries installed here."""
    found = {"otsu": [("OpenCV", lambda g: cv2.threshold(g, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU))]}
    found["components"] = [("OpenCV", lambda g: cv2.connectedComponentsWithStats((g <= 128).view(np.uint8), connectivity=8))]
    try:
        from skimage import filters, measure, morphology as skmorphology

        found.setdefault("sauvola", []).append(("scikit-image", lambda g: g > filters.threshold_sauvola(g, 15, k=0.5)))
        found.setdefault("niblack", []).append(("scikit-image", lambda g: g > filters.threshold_niblack(g, 15, k=-0.2)))
        found["otsu"].append(("scikit-image", lambda g: g > filters.threshold_otsu(g)))
        found["components"] = [("scikit-image", lambda g: measure.label(g <= 128, connectivity=2))]
        found.setdefault("despeckle", []).append(
            ("scikit-image", lambda g: skmorphology.remove_small_objects(g < 128, max_size=19))
        )
    except ImportError:
        pass
    try:
        import doxapy

        def doxa(algorithm, **params):
            def run(g):
                out = g.copy()  # doxapy 0.9.2 binarizes in place
                doxapy.Binarization.update_to_binary(algorithm, out, params)
                return out

            return run

        algorithms = doxapy.Binarization.Algorithms
        for name, algorithm, params in [
            ("sauvola", algorithms.SAUVOLA, {"window": 15, "k": 0.5}),
            ("niblack", algorithms.NIBLACK, {"window": 15, "k": -0.2}),
            ("bernsen", algorithms.BERNSEN, {"window": 11, "threshold": 80}),
            ("gatos", algorithms.GATOS, {"glyph": 15}),
            ("otsu", algorithms.OTSU, {}),
        ]:
            found.setdefault(name, []).append(("doxapy", doxa(algorithm, **params)))
    except ImportError:
        pass
    return found


def skewed(grey, degrees=1.1):
    """The page turned by a few degrees (OpenCV), for the skew correction rows."""
    rows, cols = grey.shape
    turn = cv2.getRotationMatrix2D((cols / 2, rows / 2), degrees, 1.0)
    return cv2.warpAffine(grey, turn, (cols, rows), borderValue=215)


def gamera_white_rohrer(padded, *args):
    """Gamera's White-Rohrer on the page above white rows, as the job runs it (binarization.gamera_white_rohrer)."""
    core = engine.gamera_core()
    view = core.SubImage(padded, core.Point(0, 0), core.Dim(padded.ncols, padded.nrows - 2))
    return view.white_rohrer_threshold(*args)


def gamera_correct_skew(image):
    """Gamera's skew estimate on the one-bit version, then its rotation, as the job runs them."""
    onebit = image if image.data.pixel_type == engine.gamera_core().ONEBIT else image.to_onebit()
    return image.rotate(onebit.rotation_angle_projections()[0], None, 1)


def gamera_cc_xml(image):
    """Gamera's cc_analysis written as CC Analysis writes it (the XML text)."""
    from gamera import gamera_xml

    return gamera_xml.WriteXMLFile(glyphs=image.cc_analysis(), with_features=True).string()


def algorithm_rows(grey, repeat, only):
    onebit = grey > 128
    rgb = np.stack([grey, grey // 2, 255 - grey], axis=2)
    tilted = skewed(grey)
    tilted_onebit = tilted > 128
    below = np.vstack([grey, np.full((2, grey.shape[1]), white_rohrer.PAST_END, np.uint8)])
    preliminary = fast.niblack_threshold(grey, 15)
    background = fast.gatos_background(grey, preliminary, 15)
    rows = [
        ("Sauvola Threshold", "sauvola", lambda: fast.sauvola_threshold(grey), ("sauvola_threshold", (grey,), (15, 0.5, 128, 20, 150))),
        ("Niblack Threshold", "niblack", lambda: fast.niblack_threshold(grey), ("niblack_threshold", (grey,), (15, -0.2, 20, 150))),
        ("Bernsen threshold", "bernsen", lambda: fast.bernsen_threshold(grey), ("bernsen_threshold", (grey,), (0, 11, 80, False))),
        ("Gatos Background", "gatos", lambda: fast.gatos_background(grey, preliminary, 15),
         ("gatos_background", (grey, preliminary), (15,))),
        ("Gatos Threshold", None, lambda: fast.gatos_threshold(grey, background, preliminary),
         ("gatos_threshold", (grey, background, preliminary), (0.6, 0.5, 0.8))),
        ("Otsu Threshold", "otsu", lambda: fast.otsu_threshold(grey), ("otsu_threshold", (grey,), (0,))),
        ("Despeckle (size 1)", None, lambda: fast.despeckle(onebit, 1), ("despeckle", (onebit,), (1,))),
        ("Despeckle (size 20)", "despeckle", lambda: fast.despeckle(onebit, 20), ("despeckle", (onebit,), (20,))),
        ("Dilate", None, lambda: fast.dilate(onebit), ("dilate", (onebit,), ())),
        ("Invert (greyscale)", None, lambda: ~grey, ("invert", (grey,), ())),
        ("Mask (logical 'xor')", None, lambda: ~((~onebit) ^ (~preliminary)), ("xor_image", (onebit, preliminary), ())),
        ("CC Analysis (XML text, same bytes)", "components", lambda: components.cc_analysis_xml(onebit),
         (gamera_cc_xml, (onebit,), ())),
        ("Tsai Moment Preserving Threshold", None, lambda: global_thresholds.tsai_threshold(grey),
         ("tsai_moment_preserving_threshold", (grey,), (0,))),
        ("Brink Threshold", None, lambda: global_thresholds.brink_threshold(grey), ("brink_threshold", (grey,), ())),
        ("Abutaleb locally-adaptive threshold", None, lambda: global_thresholds.abutaleb_threshold(grey),
         ("abutaleb_threshold", (grey,), (0,))),
        ("Convert to greyscale (from RGB)", None, lambda: fast_conversion.to_greyscale(rgb), ("to_greyscale", (rgb,), ())),
        ("Convert to RGB (from greyscale)", None, lambda: fast_conversion.to_rgb(grey), ("to_rgb", (grey,), ())),
        ("Convert to greyscale 16 (from greyscale)", None, lambda: fast_conversion.to_grey16(grey), ("to_grey16", (grey,), ())),
        ("Convert to one-bit (from RGB)", None, lambda: fast_conversion.to_onebit(rgb), ("to_onebit", (rgb,), ())),
        ("Invert (RGB)", None, lambda: fast_conversion.invert(rgb), ("invert", (rgb,), ())),
        ("White-Rohrer Threshold", None, lambda: white_rohrer.white_rohrer_threshold(grey),
         (gamera_white_rohrer, (below,), (8, 1, 0, 100, 100, 100))),
        *[(f"White-Rohrer Threshold (f factor {f})", None,
           lambda f=f: white_rohrer.white_rohrer_threshold(grey, 8, 1, 0, 100, f, 100),
           (gamera_white_rohrer, (below,), (8, 1, 0, 100, f, 100))) for f in (5, 30)],
        ("Correct Skew (one-bit page)", None, lambda: fast_skew.correct_skew(tilted_onebit)[0],
         (gamera_correct_skew, (tilted_onebit,), ())),
        ("Correct Skew (greyscale page)", None, lambda: fast_skew.correct_skew(tilted)[0],
         (gamera_correct_skew, (tilted,), ())),
    ]
    found = peers()
    print("| job | Gamera | ours | Gamera / ours | peers | same pixels as Gamera |")
    print("|---|---:|---:|---:|---|---|")
    for label, algorithm, ours, (method, arrays, args) in rows:
        if only and only.lower() not in label.lower():
            continue
        # Gamera's time is its plugin alone (or ``method`` calling its plugins), on fresh images each
        # run (despeckle and invert work in place); converting arrays in and out of Gamera is not counted.
        slow = callable(method) or method.endswith("threshold") or method == "gatos_background"
        gamera_time = float("inf")
        for _ in range(1 if slow else repeat):
            images = [engine.to_gamera(a) for a in arrays]
            start = time.perf_counter()
            result = method(*images, *args) if callable(method) else getattr(images[0], method)(*images[1:], *args)
            gamera_time = min(gamera_time, time.perf_counter() - start)
        theirs = result if isinstance(result, str) else engine.from_gamera(images[0] if result is None else result)
        our_time, mine = best_time(ours, repeat)
        peer_text = ", ".join(f"{lib} {best_time(lambda f=f: f(grey), repeat)[0] * 1000:.0f} ms" for lib, f in found.get(algorithm, [])) or "-"
        equal = "yes" if np.array_equal(mine, theirs) else f"NO ({int(np.count_nonzero(mine != theirs))} px differ)"
        print(f"| {label} | {gamera_time * 1000:.0f} ms | {our_time * 1000:.1f} ms | {gamera_time / our_time:.{0 if gamera_time >= 10 * our_time else 1}f}× | {peer_text} | {equal} |")


def job_rows(grey, only, repeat):
    """Whole jobs as a worker runs them, each engine, with PNG I/O, on the same page: the best of ``repeat`` runs."""
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)

        def write(array, mimetype, name):
            path = scratch / name
            save_png(array, str(path), mimetype)
            return [{"resource_path": str(path), "resource_type": mimetype, "resource_name": name}]

        grey_in = write(grey, "image/greyscale+png", "grey")
        onebit_in = write(fast.sauvola_threshold(grey), "image/onebit+png", "onebit")
        rgb_in = write(np.stack([grey] * 3, axis=2), "image/rgb+png", "rgb")
        background_in = write(fast.gatos_background(grey, fast.sauvola_threshold(grey), 15), "image/greyscale+png", "bg")
        tilted_in = write(skewed(grey) > 128, "image/onebit+png", "tilted")
        jobs = [
            (binarization.SauvolaThreshold, {"Greyscale PNG image": grey_in}),
            (binarization.NiblackThreshold, {"Greyscale PNG image": grey_in}),
            (threshold.BernsenThreshold, {"Greyscale PNG image": grey_in}),
            (binarization.GatosBackground, {binarization.PRELIMINARY: onebit_in, binarization.SOURCE: grey_in}),
            (binarization.GatosThreshold,
             {binarization.PRELIMINARY: onebit_in, binarization.BACKGROUND: background_in, binarization.SOURCE: grey_in}),
            (threshold.OtsuThreshold, {"Greyscale PNG image": grey_in}),
            (morphology.Despeckle, {"Onebit PNG image": onebit_in}),
            (morphology.Dilate, {"Onebit PNG image": onebit_in}),
            (conversion.Invert, {"PNG image": grey_in}),
            (masking.MaskXor, {"Source image": onebit_in, "Mask image": onebit_in}),
            (binarization.BrinkThreshold, {"Greyscale PNG image": grey_in}),
            (threshold.TsaiMomentPreservingThreshold, {"Greyscale PNG image": grey_in}),
            (threshold.AbutalebThreshold, {"Greyscale PNG image": grey_in}),
            (threshold.DjvuThreshold, {"RGB PNG image": rgb_in}),
            (conversion.ConvertToGreyscale, {"PNG image": rgb_in}),
            (conversion.ConvertToRgb, {"PNG image": grey_in}),
            (conversion.ConvertToGrey16, {"PNG image": grey_in}),
            (conversion.ConvertToOnebit, {"PNG image": grey_in}),
            (classification.CCAnalysis, {"1-Bit PNG Image": onebit_in}),
            (binarization.WhiteRohrerThreshold, {"Greyscale PNG image": grey_in}),
            (skew.CorrectSkew, {"PNG image": tilted_in}),
        ]
        print(f"\n| job (whole, with PNG I/O, best of {repeat}) | RODAN_GAMERA_ENGINE=gamera | fast (default) | ratio |")
        print("|---|---:|---:|---:|")
        for cls, inputs in jobs:
            if only and only.lower() not in cls.name.lower():
                continue
            port = cls.output_port_types[0]
            same_type = cls in (conversion.Invert, skew.CorrectSkew)  # their output keeps the input's type
            mimetype = next(iter(inputs.values()))[0]["resource_type"] if same_type else port["resource_types"][0]
            times = []
            for chosen in ("gamera", "fast"):
                os.environ[engine.ENGINE_ENV] = chosen
                output = {port["name"]: [{"resource_path": str(scratch / f"out-{chosen}"), "resource_type": mimetype}]}
                best = float("inf")
                for _ in range(repeat):
                    start = time.perf_counter()
                    cls().run_my_task(inputs, {}, output)
                    best = min(best, time.perf_counter() - start)
                    if best > 1.0:  # Gamera's slow jobs: one run says enough
                        break
                times.append(best)
            os.environ.pop(engine.ENGINE_ENV)
            print(f"| {cls.name} | {times[0] * 1000:.0f} ms | {times[1] * 1000:.0f} ms | {times[0] / times[1]:.1f}× |")


def png_rows(grey, repeat):
    """PNG decode and encode of each Rodan flavour: ours, Pillow at level 1 (our encoder before), Gamera's own."""
    from PIL import Image

    core = engine.gamera_core()
    flavours = [
        ("onebit", fast.sauvola_threshold(grey)),
        ("greyscale", grey),
        ("grey16", grey.astype(np.uint16) * 257),
        ("rgb", np.stack([grey, grey // 2, 255 - grey], axis=2)),
        ("rgba", np.dstack([grey, grey // 2, 255 - grey, np.full_like(grey, 255)])),
    ]
    print("\n| PNG flavour | decode: ours | decode: Gamera | encode: ours (OpenCV) | encode: Pillow level 1 "
          "(before) | encode: Gamera | file: ours / Pillow 1 / Gamera |")
    print("|---|---:|---:|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as scratch:
        for kind, array in flavours:
            ours, pillow, theirs = (str(Path(scratch) / f"{kind}-{name}") for name in ("ours", "pillow", "gamera"))
            encode = best_time(lambda: save_png(array, ours, f"image/{kind}+png"), repeat)[0]
            before = best_time(lambda: Image.fromarray(array).save(pillow, format="PNG", compress_level=1), repeat)[0]
            decode = best_time(lambda: load_image(ours), repeat)[0]
            cells = ["-", "-"]
            sizes = [os.path.getsize(ours), os.path.getsize(pillow)]
            if kind != "rgba":  # Gamera has no RGBA images
                image = engine.to_gamera(array)
                cells[1] = f"{best_time(lambda: image.save_PNG(theirs), repeat)[0] * 1000:.0f} ms"
                cells[0] = f"{best_time(lambda: core.load_image(theirs), repeat)[0] * 1000:.0f} ms"
                sizes.append(os.path.getsize(theirs))
            print(f"| {kind} | {decode * 1000:.0f} ms | {cells[0]} | {encode * 1000:.0f} ms | {before * 1000:.0f} ms | "
                  f"{cells[1]} | {' / '.join(f'{size / 1e6:.2f}' for size in sizes)} MB |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per fast measurement; the best counts")
    parser.add_argument("--only", metavar="NAME", help="only the rows whose job name contains NAME (any case)")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    grey = _page(np.random.default_rng(2480), *A4)
    only = f" --only '{args.only}'" if args.only else ""
    print(f"`.venv/bin/python -m bench.gamera --repeat {args.repeat}{only}` on {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, one thread; page {A4[1]}×{A4[0]} = {grey.size / 1e6:.1f} Mpx\n")
    algorithm_rows(grey, args.repeat, args.only)
    job_rows(grey, args.only, args.repeat)
    if not args.only:
        png_rows(grey, args.repeat)


if __name__ == "__main__":
    main()
