"""The ``Neon`` job with Rodan's contract (rodan-compat.md §7.3).

The first run checks the input MEI against the page image and waits for the
user. The page submits ``{"user_input": <MEI>}`` in either form (Rodan's
own page sends it sb-based, ours line-by-line); ``validate_my_user_input``
brings it to the sb-based form, refuses it with every problem named, or
keeps it as the job's ``@`` state; the re-run writes it to ``Corrected``.
"""

import json
import uuid
from datetime import datetime, timezone
from pathlib import Path

from PIL import Image

from rodan.jobs import kit
from rodan.jobs.base import WAITING_FOR_INPUT, ManualPhaseException, RodanTask

from . import checks, mei

MEI_TYPE = "application/mei+xml"
MANIFEST_CONTEXT = "https://ddmal.music.mcgill.ca/Neon/contexts/1/manifest.jsonld"
BUILD = Path(__file__).parent / "static" / "build" / "neon.js"


def _is_png(mimetype):
    return mimetype.endswith("png")


def image_size(inputs):
    """(width, height) of the page image, from its header."""
    entry = inputs["Image"][0]
    try:
        with Image.open(entry["resource_path"]) as image:
            return image.size
    except OSError as exc:
        raise ManualPhaseException(f"The page image {entry.get('resource_name') or ''} cannot be read: {exc}.") from None


def checked(text, size):
    """The sb-based tree of the MEI ``text`` (either form), or ManualPhaseException naming every problem."""
    try:
        tree = mei.parse(text)
        if mei.is_line_form(tree.getroot()):
            tree = mei.to_sb(tree)
    except mei.MeiError as exc:
        raise ManualPhaseException(str(exc)) from None
    found = checks.problems(tree, size)
    if found:
        raise ManualPhaseException("The MEI was not accepted: " + " ".join(found))
    return tree


def read_input(inputs):
    with open(inputs["MEI"][0]["resource_path"], "rb") as handle:
        return handle.read()


class Neon(RodanTask):
    name = "Neon"
    author = "Rodan team"
    description = ("Correct the neume encoding of a page in the browser: neumes, clefs, custodes, divisions and "
                   "syllables drawn over the page image.")
    category = "Pitch Correction"
    interactive = True
    settings = {"job_queue": "Python3"}
    input_port_types = [kit.port("MEI", [MEI_TYPE], 1, 1), kit.port("Image", _is_png, 1, 1)]
    output_port_types = [kit.port("Corrected", [MEI_TYPE], 1, 1)]

    def run_my_task(self, inputs, settings, outputs):
        if not settings.get("@done"):
            checked(read_input(inputs), image_size(inputs))
            return WAITING_FOR_INPUT()
        kit.write_text(outputs, "Corrected", settings["@user_input"])
        return True

    def my_error_information(self, exc, traceback_text):
        if isinstance(exc, ManualPhaseException):
            return {"error_summary": "The input MEI cannot be corrected in Neon.", "error_details": str(exc)}
        return {"error_summary": f"{type(exc).__name__}: {exc}", "error_details": traceback_text}

    def get_my_interface(self, inputs, settings):
        width, height = image_size(inputs)
        lines = mei.serialize(mei.to_lines(checked(read_input(inputs), (width, height))))
        image_url = inputs["Image"][0].get("resource_url", "")
        manifest = {
            "@context": MANIFEST_CONTEXT,
            "title": "Rodan-generated Manifest",
            "@id": f"urn:uuid:{uuid.uuid4()}",
            "timestamp": datetime.now(timezone.utc).isoformat(),
            "image": image_url,
            "mei_annotations": [{"id": f"urn:uuid:{uuid.uuid4()}", "type": "Annotation",
                                 "body": inputs["MEI"][0].get("resource_url", ""), "target": image_url}],
        }
        config = {"name": inputs["MEI"][0].get("resource_name") or "MEI", "width": width, "height": height,
                  "mei": lines, "imagePort": "Image"}
        return "templates/editor.html", {
            "manifestText": json.dumps(manifest),
            "config": config,
            "built": BUILD.exists(),
            "version": int(BUILD.stat().st_mtime) if BUILD.exists() else 0,
        }

    def validate_my_user_input(self, inputs, settings, user_input):
        text = user_input.get("user_input") if isinstance(user_input, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise ManualPhaseException('Send {"user_input": "<the MEI document as a string>"}.')
        tree = checked(text, image_size(inputs))
        # Rodan writes an sb-based submission verbatim; a line-by-line one is written in the sb-based form.
        verbatim = not mei.is_line_form(mei.parse(text).getroot())
        return {"@done": True, "@user_input": text if verbatim else mei.serialize(tree)}
