"""Identify an uploaded file's registered resource type from its first bytes.

Rodan asks libmagic and refines its answer (rodan-compat.md §6.2). We read
the signatures ourselves instead, so that a fresh machine without libmagic
identifies files the same way, and we fix Rodan's quirks on the way:

* PNG flavours come from the IHDR chunk (bit depth, colour type), so 8-bit
  greyscale is image/greyscale+png, not rgb+png. A palette PNG with a tRNS
  chunk is rgba+png, because ``rodan.imaging.load_image`` decodes it with alpha;
  grey+alpha (colour type 4) is rgba+png for the same reason.
* MusicXML is application/x-musicxml+xml, the registered spelling.
* XML is recognised by its root element (or DOCTYPE) anywhere in the first
  2 KB, which covers Rodan's second-line rules and files that put the XML
  declaration and the root on one line.

Only the first ``HEAD_BYTES`` of a file are read.
"""

import json
import re
import struct

HEAD_BYTES = 16 * 1024
XML_HEAD_CHARS = 2048
OCTET_STREAM = "application/octet-stream"

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  \r\n\x87\n"
_J2K_CODESTREAM = b"\xff\x4f\xff\x51"
_TIFF_SIGNATURES = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")  # classic and BigTIFF
_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")  # file, empty archive, spanned
_HDF5_SIGNATURE = b"\x89HDF"
_PICKLE_PROTOCOL_2 = b"\x80\x02"  # OCRopus saves its networks as protocol-2 pickles

# First lines written by known producers whose types no generic rule can tell apart.
_TEXT_HEADERS = {
    "Indexer,interval.IntervalIndexer,interval.IntervalIndexer,interval.IntervalIndexer,"
    "interval.IntervalIndexer,interval.IntervalIndexer,interval.IntervalIndexer": (
        "application/x-vis_vertical_pandas_series+csv"
    ),
    "Indexer,interval.HorizontalIntervalIndexer,interval.HorizontalIntervalIndexer,"
    "interval.HorizontalIntervalIndexer,interval.HorizontalIntervalIndexer,interval.HorizontalIntervalIndexer": (
        "application/x-vis_horizontal_pandas_series+csv"
    ),
    "Indexer,offset.FilterByOffsetIndexer,offset.FilterByOffsetIndexer,offset.FilterByOffsetIndexer": (
        "application/x-vis_noterest_pandas_series+csv"
    ),
    "Indexer,ngram.NGramIndexer": "application/x-vis_ngram_pandas_dataframe+csv",
    ",Basso seguente,Figured bass": "application/x-vis_figuredbass_pandas_series+csv",
    "@relation Converted_from_ACE_XML": "application/arff",
}
# jSymbolic's feature CSV header is ~3 KB long; its first columns identify it.
_JSYMBOLIC_CSV_PREFIX = "Duration,Acoustic_Guitar_Fraction,Amount_of_Arpeggiation,"

_XML_ROOTS = {
    "gamera-database": "application/gamera+xml",
    "feature_vector_file": "application/ace+xml",
    "mei": "application/mei+xml",
    "score-partwise": "application/x-musicxml+xml",
    "score-timewise": "application/x-musicxml+xml",
}
# Declarations, comments and processing instructions that may precede the root element.
_XML_PROLOGUE_ITEM = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->)", re.S)
_XML_DOCTYPE = re.compile(r"\s*<!DOCTYPE\s+([^\s\[>]+)", re.I)
_XML_ELEMENT = re.compile(r"\s*<([A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)")
_MUSICXML_DTD = "-//Recordare//DTD MusicXML"
_MEI_ELEMENT = re.compile(r"<(?:[A-Za-z_][\w.\-]*:)?mei[\s>]")

# Bytes that do not occur in text files (C0 controls other than tab, LF, FF, CR, ESC).
_BINARY_BYTES = bytes(set(range(32)) - {9, 10, 12, 13, 27})


def identify(path):
    """The registered mimetype of the file at ``path``, from its first ``HEAD_BYTES``.

    Never fails on content: anything unrecognised, empty or broken is
    application/octet-stream, which Rodan stores unregistered results as.
    """
    with open(path, "rb") as stream:
        head = stream.read(HEAD_BYTES)
        complete = not stream.read(1)
    return identify_bytes(head, complete)


def identify_bytes(head, complete=True):
    """The mimetype of a file whose first bytes are ``head``; ``complete`` if that is the whole file."""
    if head.startswith(_PNG_SIGNATURE):
        return _png_type(head)
    if head.startswith(b"\xff\xd8\xff"):
        return "image/rgb+jpg"
    if head.startswith(_JP2_SIGNATURE) or head.startswith(_J2K_CODESTREAM):
        return "image/jp2"
    if head.startswith(_TIFF_SIGNATURES):
        return "image/tiff"
    if head.startswith(_ZIP_SIGNATURES):
        return "application/zip"
    if head.startswith(b"MThd"):
        return "application/midi"
    if head.startswith(_HDF5_SIGNATURE):
        return "keras/model+hdf5"
    if head.startswith(_PICKLE_PROTOCOL_2):
        return "application/ocropus+pyrnn"
    text = _as_text(head)
    if text is None:
        return OCTET_STREAM
    if text.lstrip().startswith("<"):
        return _xml_type(text[:XML_HEAD_CHARS])
    return _text_type(text, complete)


def _png_type(head):
    """The PNG flavour from IHDR's bit depth and colour type (and tRNS for palettes)."""
    chunks = dict(_png_chunks(head))
    ihdr = chunks.get(b"IHDR")
    if ihdr is None or len(ihdr) < 10:
        return OCTET_STREAM
    bit_depth, colour_type = ihdr[8], ihdr[9]
    if colour_type == 0:
        return {1: "image/onebit+png", 16: "image/grey16+png"}.get(bit_depth, "image/greyscale+png")
    if colour_type in (4, 6):
        return "image/rgba+png"
    if colour_type == 3 and b"tRNS" in chunks:
        return "image/rgba+png"
    if colour_type in (2, 3):
        return "image/rgb+png"
    return OCTET_STREAM


def _png_chunks(head):
    """(type, data) of the PNG chunks before the image data that lie within ``head``."""
    offset = len(_PNG_SIGNATURE)
    while offset + 8 <= len(head):
        length, kind = struct.unpack(">I4s", head[offset : offset + 8])
        if kind == b"IDAT":
            return
        yield kind, head[offset + 8 : offset + 8 + length]
        offset += 12 + length


def _as_text(head):
    """``head`` decoded as text, or None if it holds bytes text files do not contain.

    UTF-8 is tried first (a character cut by the end of ``head`` is
    tolerated), then Latin-1, which older CSV exports use. A UTF-8 byte order
    mark is dropped.
    """
    sample = head[:4096]
    if not sample or len(sample.translate(None, _BINARY_BYTES)) != len(sample):
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:
            text = head.decode("latin-1")
        else:
            text = head[: exc.start].decode("utf-8")
    return text.removeprefix("\ufeff")


def _xml_type(text):
    """The XML type from the DOCTYPE name or the root element's local name, else octet-stream.

    An ``<mei`` element anywhere in ``text`` also makes MEI, for files whose
    prologue this small scanner does not follow.
    """
    position = 0
    while match := _XML_PROLOGUE_ITEM.match(text, position):
        position = match.end()
    doctype = _XML_DOCTYPE.match(text, position)
    if doctype:
        if _MUSICXML_DTD in text[doctype.start() : doctype.start() + 300]:
            return "application/x-musicxml+xml"
        root = doctype.group(1)
    else:
        element = _XML_ELEMENT.match(text, position)
        root = element.group(1) if element else ""
    found = _XML_ROOTS.get(root.rpartition(":")[2])
    if found is None and _MEI_ELEMENT.search(text):
        return "application/mei+xml"
    return found or OCTET_STREAM


def _text_type(text, complete):
    """Rodan's first-line rules for text: known headers, polygons, JSON, CSV, else plain text.

    Beyond Rodan, a JSON array is recognised when the whole file was read
    and parses (libmagic does the same for the files it sees whole).
    """
    lines = text.splitlines()
    first = lines[0].strip() if lines else ""
    if first in _TEXT_HEADERS:
        return _TEXT_HEADERS[first]
    if first.startswith(_JSYMBOLIC_CSV_PREFIX):
        return "application/arff+csv"
    if first.startswith("[[") and first.endswith("]]"):
        return "application/gamera-polygons+txt"
    stripped = text.strip()
    if stripped.startswith("{"):
        return "application/json"
    if complete and stripped.startswith("["):
        try:
            json.loads(stripped)
            return "application/json"
        except ValueError:
            pass
    if len(lines) >= 2 and lines[0].count(",") > 0 and lines[0].count(",") == lines[1].count(","):
        return "text/csv"
    return "text/plain"
