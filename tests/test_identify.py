"""rodan.identify on real files: every rule of rodan-compat.md §6.2, with Rodan's quirks fixed."""

import io
import pickle
import struct
import zipfile
import zlib

import numpy as np
import pytest
from PIL import Image

from rodan.identify import HEAD_BYTES, identify
from rodan.resource_types import MIMETYPES


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def crafted_png(width, height, bit_depth, colour_type):
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\x00" * 8))


@pytest.fixture
def write(tmp_path):
    """Write bytes or text to a fresh extension-less file (as Rodan stores uploads) and identify it."""
    counter = iter(range(10**6))

    def _write(content):
        path = tmp_path / f"upload{next(counter)}"
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        return identify(str(path))

    return _write


def pillow_bytes(image, format_, **options):
    buffer = io.BytesIO()
    image.save(buffer, format=format_, **options)
    return buffer.getvalue()


# -- images -------------------------------------------------------------------


@pytest.mark.parametrize(
    "image, expected",
    [
        (Image.new("1", (4, 3), 1), "image/onebit+png"),
        (Image.new("L", (4, 3), 128), "image/greyscale+png"),  # Rodan's quirk said rgb+png
        (Image.fromarray(np.full((3, 4), 40000, np.uint16)), "image/grey16+png"),
        (Image.new("RGB", (4, 3), (1, 2, 3)), "image/rgb+png"),
        (Image.new("RGBA", (4, 3), (1, 2, 3, 4)), "image/rgba+png"),
        (Image.new("LA", (4, 3), (1, 2)), "image/rgba+png"),
        (Image.new("P", (4, 3), 0), "image/rgb+png"),
    ],
    ids=["1", "L", "I;16", "RGB", "RGBA", "LA", "P"],
)
def test_png_flavour_comes_from_the_ihdr(write, image, expected):
    assert write(pillow_bytes(image, "PNG")) == expected


def test_palette_png_with_transparency_is_rgba(write):
    assert write(pillow_bytes(Image.new("P", (4, 3), 0), "PNG", transparency=0)) == "image/rgba+png"


@pytest.mark.parametrize("bit_depth", [2, 4])
def test_two_and_four_bit_greyscale_pngs_are_greyscale(write, bit_depth):
    assert write(crafted_png(8, 8, bit_depth, 0)) == "image/greyscale+png"


def test_sixteen_bit_rgb_png_is_rgb(write):
    assert write(crafted_png(8, 8, 16, 2)) == "image/rgb+png"


def test_a_bomb_header_is_identified_without_decoding(write):
    assert write(crafted_png(40000, 40000, 8, 0)) == "image/greyscale+png"


def test_png_signature_without_a_header_is_octet_stream(write):
    assert write(b"\x89PNG\r\n\x1a\n\x00\x00") == "application/octet-stream"


def test_other_image_formats(write):
    rgb = Image.new("RGB", (8, 8), (10, 20, 30))
    assert write(pillow_bytes(rgb, "JPEG")) == "image/rgb+jpg"
    assert write(pillow_bytes(Image.new("L", (8, 8)), "JPEG")) == "image/rgb+jpg"
    assert write(pillow_bytes(rgb, "TIFF")) == "image/tiff"
    assert write(b"MM\x00*\x00\x00\x00\x08" + b"\x00" * 32) == "image/tiff"  # big-endian TIFF
    assert write(pillow_bytes(rgb, "JPEG2000")) == "image/jp2"  # JP2 box signature
    assert write(pillow_bytes(rgb, "JPEG2000", no_jp2=True)) == "image/jp2"  # raw codestream


# -- binary formats -------------------------------------------------------------


def test_zip_midi_hdf5_and_ocropus(write):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("page.png", b"x")
    assert write(buffer.getvalue()) == "application/zip"
    empty = io.BytesIO()
    zipfile.ZipFile(empty, "w").close()
    assert write(empty.getvalue()) == "application/zip"
    assert write(b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk") == "application/midi"
    assert write(b"\x89HDF\r\n\x1a\n" + b"\x00" * 64) == "keras/model+hdf5"
    assert write(pickle.dumps({"network": [1.0, 2.0]}, protocol=2)) == "application/ocropus+pyrnn"


def test_unknown_binary_and_empty_files_are_octet_stream(write):
    assert write(bytes(range(256)) * 4) == "application/octet-stream"
    assert write(b"") == "application/octet-stream"
    assert write(pickle.dumps([1], protocol=4)) == "application/octet-stream"


# -- XML ----------------------------------------------------------------------

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


@pytest.mark.parametrize(
    "document, expected",
    [
        (XML_DECLARATION + '<gamera-database version="2.0">\n<glyphs/></gamera-database>', "application/gamera+xml"),
        (
            '<?xml version="1.0"?>\n<!DOCTYPE feature_vector_file [\n'
            "   <!ELEMENT feature_vector_file (comments, data_set+)>\n]>\n<feature_vector_file/>",
            "application/ace+xml",
        ),
        (XML_DECLARATION + '<mei xmlns="http://www.music-encoding.org/ns/mei" meiversion="4.0.1">', "application/mei+xml"),
        (
            XML_DECLARATION + '<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 3.1 Partwise//EN"\n'
            '  "http://www.musicxml.org/dtds/partwise.dtd">\n<score-partwise version="3.1"/>',
            "application/x-musicxml+xml",  # the registered spelling, not Rodan's x-muscxml
        ),
    ],
    ids=["gamera", "ace", "mei", "musicxml-dtd"],
)
def test_rodans_second_line_xml_rules(write, document, expected):
    assert expected in MIMETYPES
    assert write(document) == expected


def test_mei_after_processing_instructions_and_comments(write):
    document = (
        XML_DECLARATION
        + '<?xml-model href="https://music-encoding.org/schema/4.0.1/mei-all.rng" type="application/xml"?>\n'
        + '<?xml-model href="mei-all.rng" schematypens="http://purl.oclc.org/dsdl/schematron"?>\n'
        + "<!-- written by Neon -->\n"
        + '<mei xmlns="http://www.music-encoding.org/ns/mei"><meiHead/></mei>'
    )
    assert write(document) == "application/mei+xml"


def test_xml_declaration_and_root_on_one_line(write):
    assert write('<?xml version="1.0"?><mei xmlns="http://www.music-encoding.org/ns/mei"/>') == "application/mei+xml"
    assert write('<?xml version="1.0"?><score-timewise version="4.0"/>') == "application/x-musicxml+xml"
    assert write("\ufeff<score-partwise>\n</score-partwise>") == "application/x-musicxml+xml"  # BOM, no declaration


def test_prefixed_and_attributeless_mei_roots(write):
    assert write('<mei:mei xmlns:mei="http://www.music-encoding.org/ns/mei"/>') == "application/mei+xml"
    assert write("<mei>\n<music/></mei>") == "application/mei+xml"


def test_unregistered_xml_is_octet_stream(write):
    assert write(XML_DECLARATION + '<svg xmlns="http://www.w3.org/2000/svg"/>') == "application/octet-stream"
    assert write("<!DOCTYPE html>\n<html><body>meine</body></html>") == "application/octet-stream"


# -- text ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "first_line, expected",
    [
        ("Indexer,ngram.NGramIndexer", "application/x-vis_ngram_pandas_dataframe+csv"),
        (",Basso seguente,Figured bass", "application/x-vis_figuredbass_pandas_series+csv"),
        ("@relation Converted_from_ACE_XML", "application/arff"),
        ("Duration,Acoustic_Guitar_Fraction,Amount_of_Arpeggiation,Average_Melodic_Interval,", "application/arff+csv"),
        (
            "Indexer,offset.FilterByOffsetIndexer,offset.FilterByOffsetIndexer,offset.FilterByOffsetIndexer",
            "application/x-vis_noterest_pandas_series+csv",
        ),
    ],
)
def test_known_producer_headers(write, first_line, expected):
    assert write(first_line + "\n0,1\n") == expected


def test_polygons_json_csv_and_plain_text(write):
    assert write("[[[10, 20], [30, 40], [50, 60]], [[1, 2], [3, 4]]]\n") == "application/gamera-polygons+txt"
    assert write('{"a": 1}') == "application/json"
    assert write('\ufeff\n  {\n  "pages": [1, 2]\n}\n') == "application/json"
    assert write("[1, 2, 3]") == "application/json"  # an array that parses
    assert write("[not json\nat all\n") == "text/plain"
    assert write("name,folio,staff\nSalzinnes,1r,3\n") == "text/csv"
    assert write("name,folio\nSalzinnes,1r,3\n") == "text/plain"  # comma counts differ
    assert write("a,b,c\n") == "text/plain"  # one line cannot show a table
    assert write("no commas here\nnor here\n") == "text/plain"
    assert write("Kyrie eleison\n") == "text/plain"


def test_latin1_text_is_text(write):
    assert write("Ré,Mi,Fa\nSol,La,Si\n".encode("latin-1")) == "text/csv"


def test_only_the_head_is_read(write):
    # Text for HEAD_BYTES, then binary: identification never sees the binary part.
    body = ("clef,neume\n" * (HEAD_BYTES // 11 + 1)).encode()[:HEAD_BYTES]
    assert write(body + b"\x00\x01\x02" * 1000) == "text/csv"


def test_a_character_cut_by_the_end_of_the_head_does_not_make_text_binary(write):
    body = b"x" * (HEAD_BYTES - 1) + "é".encode()  # the é straddles the boundary
    assert write(body + b" more text\n") == "text/plain"


def test_every_result_is_registered(write):
    results = {
        write(content)
        for content in [b"", b"\x00\x01", "plain", "<x/>", crafted_png(1, 1, 8, 0), crafted_png(1, 1, 8, 5)]
    }
    assert results <= set(MIMETYPES)
