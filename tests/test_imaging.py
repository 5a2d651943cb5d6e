"""rodan.imaging on real files written by Pillow or crafted byte by byte."""

import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile

from rodan import imaging
from rodan.identify import identify
from rodan.imaging import (
    ImageError,
    convert_for,
    load_image,
    otsu_threshold,
    require_pixel_type,
    save_png,
    save_tiff,
    to_grey16,
    to_greyscale,
    to_onebit,
    to_rgb,
    to_rgba,
)


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def crafted_png(width, height, bit_depth=8, colour_type=0, rows=None):
    """A PNG whose IHDR says what we want; ``rows`` (raw scanlines) default to a few zero bytes."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    data = zlib.compress(rows if rows is not None else b"\x00" * 16)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", data) + png_chunk(b"IEND", b"")


@pytest.fixture
def rng():
    return np.random.default_rng(1979)


def samples(rng, shape=(7, 5)):
    """One array of every pixel type, with random content."""
    h, w = shape
    return {
        "onebit": rng.random((h, w)) > 0.5,
        "greyscale": rng.integers(0, 256, (h, w), dtype=np.uint8),
        "grey16": rng.integers(0, 65536, (h, w), dtype=np.uint16),
        "rgb": rng.integers(0, 256, (h, w, 3), dtype=np.uint8),
        "rgba": rng.integers(0, 256, (h, w, 4), dtype=np.uint8),
    }


FLAVOURS = {
    "onebit": ("image/onebit+png", "1", 1, 0),
    "greyscale": ("image/greyscale+png", "L", 8, 0),
    "grey16": ("image/grey16+png", "I;16", 16, 0),
    "rgb": ("image/rgb+png", "RGB", 8, 2),
    "rgba": ("image/rgba+png", "RGBA", 8, 6),
}


# -- loading ------------------------------------------------------------------


@pytest.mark.parametrize("kind", FLAVOURS)
def test_load_image_reads_every_png_flavour_written_by_pillow(tmp_path, rng, kind):
    array = samples(rng)[kind]
    path = tmp_path / kind
    Image.fromarray(array).save(path, format="PNG")
    loaded = load_image(str(path))
    assert loaded.dtype == array.dtype and loaded.shape == array.shape
    assert np.array_equal(loaded, array)
    loaded[0, 0] = loaded[0, 0]  # writable: jobs may work in place


def test_load_image_reads_tiff_and_jpeg(tmp_path, rng):
    grey = rng.integers(0, 256, (20, 30), dtype=np.uint8)
    Image.fromarray(grey).save(tmp_path / "grey.tif", format="TIFF", compression="tiff_lzw")
    assert np.array_equal(load_image(str(tmp_path / "grey.tif")), grey)
    onebit = rng.random((20, 30)) > 0.5
    Image.fromarray(onebit).save(tmp_path / "onebit.tif", format="TIFF", compression="group4")
    assert np.array_equal(load_image(str(tmp_path / "onebit.tif")), onebit)

    flat = np.full((16, 24, 3), (200, 120, 40), dtype=np.uint8)
    Image.fromarray(flat).save(tmp_path / "flat.jpg", format="JPEG", quality=95)
    loaded = load_image(str(tmp_path / "flat.jpg"))
    assert loaded.dtype == np.uint8 and loaded.shape == (16, 24, 3)
    assert np.abs(loaded.astype(int) - flat).max() <= 3  # lossy, but close


def test_palette_images_become_rgb_or_rgba_with_their_transparency(tmp_path):
    palette_image = Image.new("P", (3, 2))
    palette_image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    palette_image.putdata([0, 1, 0, 1, 1, 0])
    palette_image.save(tmp_path / "p.png", format="PNG")
    rgb = load_image(str(tmp_path / "p.png"))
    assert rgb.shape == (2, 3, 3)
    assert rgb[0, 0].tolist() == [255, 0, 0] and rgb[0, 1].tolist() == [0, 0, 255]

    palette_image.save(tmp_path / "pt.png", format="PNG", transparency=1)
    rgba = load_image(str(tmp_path / "pt.png"))
    assert rgba.shape == (2, 3, 4)
    assert rgba[0, 0].tolist() == [255, 0, 0, 255] and rgba[0, 1, 3] == 0


def test_grey_with_alpha_becomes_rgba(tmp_path):
    Image.new("LA", (2, 2), (90, 10)).save(tmp_path / "la.png", format="PNG")
    assert load_image(str(tmp_path / "la.png"))[1, 1].tolist() == [90, 90, 90, 10]


def test_four_bit_greyscale_png_loads_as_8_bit(tmp_path):
    # One row of two 4-bit pixels: 0x0 and 0xF, filter byte 0 first.
    (tmp_path / "g4").write_bytes(crafted_png(2, 1, bit_depth=4, colour_type=0, rows=b"\x00\x0f"))
    assert load_image(str(tmp_path / "g4")).tolist() == [[0, 255]]


def test_truncated_png_is_refused_even_if_pillow_was_told_to_accept_truncation(tmp_path, rng, monkeypatch):
    path = tmp_path / "truncated"
    Image.fromarray(rng.integers(0, 256, (200, 200), dtype=np.uint8)).save(path, format="PNG")
    path.write_bytes(path.read_bytes()[:-2000])
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(ImageError, match=r"^page 12 is a corrupt or truncated PNG image"):
        load_image(str(path), name="page 12")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # the global is given back


def test_truncated_jpeg_is_refused(tmp_path, rng):
    path = tmp_path / "truncated.jpg"
    Image.fromarray(rng.integers(0, 256, (100, 100, 3), dtype=np.uint8)).save(path, format="JPEG")
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(ImageError, match="corrupt or truncated JPEG"):
        load_image(str(path))


def test_empty_and_non_image_files_are_refused_in_one_line(tmp_path):
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(ImageError, match=r"^scan\.png is empty \(0 bytes\), not an image$"):
        load_image(str(tmp_path / "empty"), name="scan.png")
    (tmp_path / "notes.txt").write_text("clef, neume, custos\n")
    with pytest.raises(ImageError) as caught:
        load_image(str(tmp_path / "notes.txt"))
    assert "not an image we can read" in str(caught.value) and "\n" not in str(caught.value)


def test_a_missing_file_is_a_filesystem_error_not_an_image_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_image(str(tmp_path / "absent"))


def test_decompression_bomb_is_refused_from_its_header_with_a_readable_message(tmp_path, monkeypatch):
    monkeypatch.delenv("RODAN_MAX_IMAGE_PIXELS", raising=False)
    (tmp_path / "bomb").write_bytes(crafted_png(40000, 40000))
    with pytest.raises(ImageError) as caught:
        load_image(str(tmp_path / "bomb"))
    assert str(caught.value) == (
        "image is 40000×40000 = 1600 Mpx, above the limit of 300 Mpx (RODAN_MAX_IMAGE_PIXELS)"
    )


def test_pixel_limit_is_read_from_the_environment_at_call_time(tmp_path, monkeypatch):
    path = tmp_path / "ten"
    Image.new("L", (10, 10), 7).save(path, format="PNG")
    monkeypatch.setenv("RODAN_MAX_IMAGE_PIXELS", "99")
    with pytest.raises(ImageError, match=r"10×10 = 0\.0001 Mpx, above the limit of 9\.9e-05 Mpx"):
        load_image(str(path))
    monkeypatch.setenv("RODAN_MAX_IMAGE_PIXELS", "100")
    assert load_image(str(path)).shape == (10, 10)
    monkeypatch.setenv("RODAN_MAX_IMAGE_PIXELS", "lots")
    with pytest.raises(ImageError, match="RODAN_MAX_IMAGE_PIXELS must be a positive number"):
        load_image(str(path))


def test_pillows_own_bomb_guard_neither_blocks_our_limit_nor_is_left_changed(tmp_path, monkeypatch):
    # Pillow refuses anything above 2 × MAX_IMAGE_PIXELS (178 Mpx by default), below our 300 Mpx.
    path = tmp_path / "twenty"
    Image.new("L", (20, 20), 7).save(path, format="PNG")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10)
    assert load_image(str(path)).shape == (20, 20)
    assert Image.MAX_IMAGE_PIXELS == 10


def test_unsupported_float_pixels_are_refused(tmp_path):
    Image.new("F", (3, 3), 0.5).save(tmp_path / "float.tif", format="TIFF")
    with pytest.raises(ImageError, match="Pillow mode 'F'"):
        load_image(str(tmp_path / "float.tif"))


# -- saving -------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (9, 1), (7, 5)])
@pytest.mark.parametrize("kind", FLAVOURS)
def test_save_png_writes_exactly_the_flavour_and_round_trips(tmp_path, rng, kind, shape):
    resource_type, mode, bit_depth, colour_type = FLAVOURS[kind]
    array = samples(rng, shape)[kind]
    path = tmp_path / "output"
    save_png(array, str(path), resource_type)
    assert [p.name for p in tmp_path.iterdir()] == ["output"]  # no extension added
    header = path.read_bytes()[:26]
    assert (header[24], header[25]) == (bit_depth, colour_type)
    assert identify(str(path)) == resource_type
    with Image.open(path) as written:
        assert written.mode == mode and written.size == (shape[1], shape[0])
    assert np.array_equal(load_image(str(path)), array)


def test_save_png_refuses_an_array_of_the_wrong_pixel_type(tmp_path):
    grey = np.zeros((3, 3), np.uint8)
    with pytest.raises(ImageError, match=r"expected a one-bit \(black and white\) image, got an 8-bit greyscale"):
        save_png(grey, str(tmp_path / "x"), "image/onebit+png")
    with pytest.raises(ValueError, match="not a PNG resource type"):
        save_png(grey, str(tmp_path / "x"), "image/tiff")
    with pytest.raises(ImageError, match="not an image pixel type"):
        save_png(np.zeros((3, 3), np.float32), str(tmp_path / "x"), "image/png")
    assert not (tmp_path / "x").exists()


def test_plain_image_png_keeps_the_arrays_own_flavour(tmp_path):
    save_png(np.full((2, 2), 300, np.uint16), str(tmp_path / "g16"), "image/png")
    assert identify(str(tmp_path / "g16")) == "image/grey16+png"


def test_save_tiff_is_lossless_and_group4_for_onebit(tmp_path, rng):
    for kind, array in samples(rng).items():
        path = tmp_path / kind
        save_tiff(array, str(path))
        assert identify(str(path)) == "image/tiff"
        assert np.array_equal(load_image(str(path)), array), kind
    with Image.open(tmp_path / "onebit") as written:
        assert written.info["compression"] == "group4"


# -- pixel types and conversions ---------------------------------------------


def test_require_pixel_type_accepts_names_and_mimetypes_and_explains_refusals():
    rgb = np.zeros((2, 2, 3), np.uint8)
    assert require_pixel_type(rgb, "image/rgb+png") is rgb
    assert require_pixel_type(rgb, "greyscale", "rgb") is rgb
    with pytest.raises(ImageError) as caught:
        require_pixel_type(rgb, "onebit", "image/greyscale+png")
    assert str(caught.value) == (
        "expected a one-bit (black and white) image or an 8-bit greyscale image, "
        "got an RGB colour image; convert the image first"
    )
    with pytest.raises(ValueError, match="unknown pixel types"):
        require_pixel_type(rgb, "cmyk")


def test_to_greyscale_scales_16_bit_with_rounding_and_maps_onebit_to_black_and_white():
    grey16 = np.array([[0, 128, 129, 257, 65535]], np.uint16)
    assert to_greyscale(grey16).tolist() == [[0, 0, 1, 1, 255]]
    assert to_greyscale(np.array([[True, False]])).tolist() == [[255, 0]]


def test_to_greyscale_of_colour_matches_pillows_luma(rng):
    rgb = samples(rng, (30, 40))["rgb"]
    expected = np.asarray(Image.fromarray(rgb).convert("L"))
    assert np.array_equal(to_greyscale(rgb), expected)
    assert to_greyscale(np.array([[[10, 20, 30]]], np.uint8)).item() == 18  # 0.299·10 + 0.587·20 + 0.114·30


def test_alpha_is_flattened_on_white():
    rgba = np.array([[[0, 0, 0, 0], [0, 0, 0, 255], [0, 0, 0, 128], [200, 100, 50, 255]]], np.uint8)
    assert to_rgb(rgba).tolist() == [[[255, 255, 255], [0, 0, 0], [127, 127, 127], [200, 100, 50]]]
    assert to_greyscale(rgba)[0, :3].tolist() == [255, 0, 127]


def test_grey16_rgba_and_rgb_helpers_keep_white_white():
    grey = np.array([[0, 255]], np.uint8)
    assert to_grey16(grey).tolist() == [[0, 65535]]
    assert to_rgb(grey).tolist() == [[[0, 0, 0], [255, 255, 255]]]
    assert to_rgba(grey)[0, 1].tolist() == [255, 255, 255, 255]
    assert to_grey16(to_rgba(grey)).tolist() == [[0, 65535]]


def brute_force_otsu(grey, levels):
    """Otsu's criterion evaluated level by level, straight from the paper's definitions."""
    values = grey.ravel().astype(np.float64)
    best, best_t = -1.0, None
    for t in range(levels):
        low, high = values[values <= t], values[values > t]
        if low.size == 0 or high.size == 0:
            continue
        between = low.size * high.size * (low.mean() - high.mean()) ** 2
        if between > best * (1 + 1e-12):
            best, best_t = between, t
    return best_t


def test_otsu_threshold_matches_the_brute_force_criterion(rng):
    ink = rng.normal(60, 20, 3000)
    paper = rng.normal(200, 15, 9000)
    grey = np.clip(np.concatenate([ink, paper]), 0, 255).astype(np.uint8).reshape(60, 200)
    assert otsu_threshold(grey) == brute_force_otsu(grey, 256)
    assert 100 < otsu_threshold(grey) < 160


def test_otsu_works_on_the_full_16_bit_range():
    grey16 = np.array([[1000, 1000, 60000, 60000, 1200]], np.uint16)
    assert otsu_threshold(grey16) == brute_force_otsu(grey16, 65536) == 1200
    assert to_onebit(grey16).tolist() == [[False, False, True, True, False]]


def test_to_onebit_separates_ink_from_paper_and_handles_uniform_pages(rng):
    page = np.clip(rng.normal(215, 8, (50, 50)), 0, 255).astype(np.uint8)
    page[20:25, 5:45] = 30  # a stroke
    onebit = to_onebit(np.repeat(page[..., None], 3, axis=2))
    assert onebit.dtype == bool
    assert not onebit[20:25, 5:45].any() and onebit[:15].all()
    assert to_onebit(np.full((3, 3), 250, np.uint8)).all()  # blank page: white
    assert not to_onebit(np.full((3, 3), 10, np.uint8)).any()  # all ink: black
    assert to_onebit(np.array([[0, 255]], np.uint8)).tolist() == [[False, True]]


def test_convert_for_follows_the_resource_type(rng):
    rgb = samples(rng)["rgb"]
    assert convert_for(rgb, "image/png") is rgb
    assert imaging.pixel_type(convert_for(rgb, "image/grey16+png")) == "grey16"
    assert imaging.pixel_type(convert_for(rgb, "image/onebit+png")) == "onebit"
    with pytest.raises(ValueError):
        convert_for(rgb, "image/rgb+jpg")


@pytest.mark.parametrize("kind", FLAVOURS)
def test_save_png_takes_views_and_decoded_arrays(tmp_path, rng, kind):
    """Flipped and sliced views, and Pillow's one-bit arrays (True stored as 255), are written exactly."""
    resource_type = FLAVOURS[kind][0]
    array = samples(rng, (6, 8))[kind]
    view = array[::-1, 1::2]
    save_png(view, str(tmp_path / "view"), resource_type)
    assert np.array_equal(load_image(str(tmp_path / "view")), view)
    decoded = load_image(str(tmp_path / "view"))
    save_png(decoded, str(tmp_path / "again"), resource_type)
    assert np.array_equal(load_image(str(tmp_path / "again")), view)
    assert identify(str(tmp_path / "again")) == resource_type


@pytest.mark.parametrize("kind", ["rgb", "rgba"])
def test_colour_pngs_decoded_by_opencv_match_pillow_and_refuse_damage(tmp_path, rng, kind, monkeypatch):
    """8-bit RGB and RGBA PNGs take OpenCV's decoder: Pillow's pixels, and Pillow's errors for broken files."""
    array = rng.integers(0, 256, (120, 90, 3 if kind == "rgb" else 4), dtype=np.uint8)
    path = tmp_path / "page"
    Image.fromarray(array).save(path, format="PNG", compress_level=1)
    assert np.array_equal(load_image(str(path)), array)
    whole = path.read_bytes()
    path.write_bytes(whole[:-3000])
    with pytest.raises(ImageError, match="corrupt or truncated PNG"):
        load_image(str(path))
    damaged = bytearray(whole)
    damaged[len(whole) // 2] ^= 0xFF  # inside IDAT: its CRC no longer matches
    path.write_bytes(bytes(damaged))
    with pytest.raises(ImageError):
        load_image(str(path))
    path.write_bytes(whole)
    monkeypatch.setenv("RODAN_MAX_IMAGE_PIXELS", "1000")
    with pytest.raises(ImageError, match="above the limit"):
        load_image(str(path))


def test_an_rgb_pngs_transparent_colour_is_ignored_as_pillow_does(tmp_path, rng):
    array = rng.integers(0, 256, (9, 11, 3), dtype=np.uint8)
    Image.fromarray(array).save(tmp_path / "keyed", format="PNG", transparency=tuple(int(v) for v in array[0, 0]))
    with Image.open(tmp_path / "keyed") as image:
        assert "transparency" in image.info
    assert np.array_equal(load_image(str(tmp_path / "keyed")), array)
