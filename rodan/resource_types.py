"""The resource types Rodan registers (rodan-compat.md §6.1), as data.

Job port declarations name types by mimetype, or by a predicate over every
registered mimetype; ``expand_resource_types`` turns either into the list of
mimetypes a port accepts.
"""

import yaml

_VIS_SERIES = {"noterest": "NoteRest", "vertical": "Vertical Interval", "horizontal": "Horizontal Interval"}
_VIS_FRAMES = {
    "dissonance": "Dissonance Interval",
    "ngram": "N-gram",
    "fermata": "Fermata",
    "figuredbass": "Figured Bass",
    "measure": "Measure",
    "duration": "Duration",
    "nbs": "Note Beat Strength",
}

#: (mimetype, description, extension) of every registered type.
RESOURCE_TYPES = [
    ("application/octet-stream", "Unknown type", ""),
    ("application/zip", "Package", "zip"),
    ("application/json", "JSON", "json"),
    ("text/plain", "Plain text", "txt"),
    ("image/jp2", "JPEG2000 image", "jp2"),
    ("image/png", "PNG image", "png"),
    ("image/rgb+png", "RGB PNG image", "png"),
    ("image/rgb+jpg", "JPG image file", "jpg"),
    ("image/rgba+png", "PNG image file with alpha channel", "png"),
    ("keras/model+hdf5", "Trained network from Keras framework", "hdf5"),
    ("application/gamera+xml", "Gamera XML file", "xml"),
    ("image/onebit+png", "One-bit (black and white) PNG image", "png"),
    ("image/greyscale+png", "Greyscale PNG image", "png"),
    ("image/grey16+png", "Greyscale 16 PNG image", "png"),
    (
        "application/gamera-polygons+txt",
        "Python list of polygons ([[[x,y], [x,y], ...], [[x,y], [x,y], ...], ...])",
        "txt",
    ),
    ("application/mei+xml", "Music Encoding Initiative", "mei"),
    ("application/midi", "Musical Instrumental Digital Interface", "midi"),
    ("application/ace+xml", "ACE XML", "xml"),
    ("application/arff", "WEKA ARFF", "arff"),
    ("application/arff+csv", "WEKA ARFF CSV", "csv"),
    ("text/csv", "Comma Separated Values", "csv"),
    ("image/tiff", "TIFF image", "tiff"),
    ("application/ocropus+pyrnn", "OCR model trained by OCRopus", "pyrnn"),
    ("application/x-musicxml+xml", "MusicXML", "xml"),
    ("application/x-pandas_dataframe+csv", "Pandas serialized DataFrame csv", "csv"),
    ("application/x-pandas_series+csv", "Pandas serialized Series csv", "csv"),
    *[
        (f"application/x-vis_{key}_pandas_series+csv", f"{label} Indexer Result (Pandas Series CSV)", "csv")
        for key, label in _VIS_SERIES.items()
    ],
    *[
        (f"application/x-vis_{key}_pandas_dataframe+csv", f"{label} Indexer Result (Pandas DataFrame CSV)", "csv")
        for key, label in _VIS_FRAMES.items()
    ],
]

MIMETYPES = [mimetype for mimetype, _, _ in RESOURCE_TYPES]
EXTENSIONS = {mimetype: extension for mimetype, _, extension in RESOURCE_TYPES}
OCTET_STREAM = "application/octet-stream"


def expand_resource_types(declared, known=MIMETYPES):
    """The mimetypes a port declaration accepts: a list as given, or a predicate's matches.

    Raises ValueError when nothing registered matches, which Rodan also refuses.
    """
    if callable(declared):
        matched = [mimetype for mimetype in known if declared(mimetype)]
    else:
        matched = [mimetype for mimetype in declared if mimetype in known]
        unknown = [mimetype for mimetype in declared if mimetype not in known]
        if unknown:
            raise ValueError(f"unregistered resource types: {', '.join(unknown)}")
    if not matched:
        raise ValueError("the port accepts no registered resource type")
    return matched


def read_declarations(path):
    """The ``(mimetype, description, extension)`` entries of a Rodan package's ``resource_types.yaml``.

    Raises ValueError naming the first malformed entry, so a broken file
    keeps its whole family out rather than registering part of it.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            entries = yaml.safe_load(handle)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"resource_types.yaml cannot be read: {' '.join(str(exc).split())}") from None
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise ValueError("resource_types.yaml must be a list of {mimetype, description, extension}")
    declared = []
    for index, entry in enumerate(entries, 1):
        mimetype = entry.get("mimetype") if isinstance(entry, dict) else None
        if not isinstance(mimetype, str) or "/" not in mimetype or len(mimetype) > 255:
            raise ValueError(f"resource_types.yaml entry {index} needs a mimetype such as 'image/png'")
        description, extension = entry.get("description") or "", str(entry.get("extension") or "").lstrip(".")
        if not isinstance(description, str) or len(description) > 255 or len(extension) > 50:
            raise ValueError(
                f"resource_types.yaml entry {index} ({mimetype}): description must be text of up to 255 characters, "
                "extension up to 50"
            )
        declared.append((mimetype, description, extension))
    return declared
