"""Gamera's classification jobs: CC Analysis to Gamera XML, and the non-interactive kNN classifier.

CC Analysis writes fresh components, which carry no features, so the fast
engine writes Gamera's file byte for byte without Gamera
(``fast.components``). The classifier computes Gamera's full feature set,
which only Gamera does, so it runs on Gamera whatever the engine.
"""

import os
import shutil

from rodan.jobs.base import RodanTask
from rodan.jobs.kit import load, port, setting, write_each, write_text

from . import engine
from .common import settings_schema
from .fast import components

CATEGORY = "Classification"
CCS = "GameraXML - Connected Components"
TRAINING = "GameraXML - Training Data"
FEATURES = "GameraXML - Feature Selection"
CLASSIFIED = "GameraXML - Classified Glyphs"


class CCAnalysis(RodanTask):
    name = "CC Analysis"
    author = "Rodan contributors"
    description = (
        "Find the 8-connected components of a one-bit image and write them as a Gamera XML glyph file: "
        "bounding boxes and run-length encoded pixels, unclassified."
    )
    category = CATEGORY
    settings = settings_schema()
    input_port_types = [port("1-Bit PNG Image", ["image/onebit+png"])]
    output_port_types = [port(CCS, ["application/gamera+xml"])]

    def run_my_task(self, inputs, settings, outputs):
        onebit = load(inputs, "1-Bit PNG Image", "onebit")
        if engine.use_fast():
            write_text(outputs, CCS, components.cc_analysis_xml(onebit))
            return True
        components.check_label_count(onebit)  # Gamera's own refusal is a bare RuntimeError
        image = engine.to_gamera(onebit)
        from gamera import gamera_xml

        writer = gamera_xml.WriteXMLFile(glyphs=image.cc_analysis(), with_features=True)
        write_each(outputs, CCS, lambda path, resource_type: writer.write_filename(path))
        return True


class NonInteractiveClassifier(RodanTask):
    name = "Non-Interactive Classifier"
    author = "Rodan contributors"
    description = (
        "Classify connected components with Gamera's kNN classifier trained on the given glyphs, "
        "grouping parts whose bounding boxes are within the given distance."
    )
    category = CATEGORY
    settings = settings_schema(
        "Bounding box size", **{"Bounding box size": {"type": "integer", "minimum": 1, "default": 4}}
    )
    input_port_types = [
        port(CCS, ["application/gamera+xml"]),
        port(TRAINING, ["application/gamera+xml"]),
        port(FEATURES, ["application/gamera+xml"], 0, 1),
    ]
    output_port_types = [port(CLASSIFIED, ["application/gamera+xml"], 1, 2)]

    def run_my_task(self, inputs, settings, outputs):
        engine.gamera_core()
        from gamera import classify, gamera_xml, knn

        with self.tempdir() as scratch:
            # Gamera picks the training file's reader by its extension.
            training = os.path.join(scratch, "training.xml")
            shutil.copyfile(inputs[TRAINING][0]["resource_path"], training)
            try:
                classifier = knn.kNNNonInteractive(training)
            except ValueError as exc:
                raise ValueError(
                    "the training data could not be read; were the training data and feature selection "
                    "files connected to each other's ports?"
                ) from exc
        if FEATURES in inputs:
            classifier.load_settings(inputs[FEATURES][0]["resource_path"])
        grouping = classify.BoundingBoxGroupingFunction(int(setting(settings, self.settings, "Bounding box size")))
        glyphs = gamera_xml.glyphs_from_xml(inputs[CCS][0]["resource_path"])
        classified = classifier.group_and_update_list_automatic(
            glyphs, grouping_function=grouping, max_parts_per_group=4, max_graph_size=16
        )
        classifier.generate_features_on_glyphs(classified)
        writer = gamera_xml.WriteXMLFile(glyphs=classified, with_features=True)
        write_each(outputs, CLASSIFIED, lambda path, resource_type: writer.write_filename(path))
        return True
