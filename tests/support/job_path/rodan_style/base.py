"""The package's jobs, declared as Rodan declares them."""

import numpy
from celery.utils.log import get_task_logger

import rodan
from rodan.jobs.base import RodanTask
from rodan.jobs.rodan_style.drawing import threshold_page

from .summary import page_size, page_summary

logger = get_task_logger(__name__)

POLARITIES = ["Dark ink on light paper", "Light ink on dark paper"]


class Threshold(RodanTask):
    name = "Rodan style - Threshold"
    author = "Rodan-compatible test suite"
    description = "Otsu threshold of a page, ink black."
    enabled = True
    category = "Test"
    interactive = False
    settings = {
        "title": "Threshold settings",
        "type": "object",
        "job_queue": "Python3",
        "required": ["Polarity"],
        "properties": {"Polarity": {"enum": POLARITIES, "type": "string", "default": POLARITIES[0]}},
    }
    input_port_types = (
        {"name": "Page", "minimum": 1, "maximum": 1, "resource_types": lambda mime: mime.startswith("image/")},
    )
    output_port_types = (
        {"name": "One-bit page", "minimum": 1, "maximum": 1, "resource_types": ["image/onebit+png"]},
        {"name": "Summary", "minimum": 0, "maximum": 1, "resource_types": ["application/x-rodan-style+xml"]},
    )

    def run_my_task(self, inputs, settings, outputs):
        polarity = settings["Polarity"]
        logger.info("rodan-style threshold: polarity index %r", polarity)
        page = threshold_page(inputs["Page"][0]["resource_path"], dark_ink=polarity == 0)
        page.save(outputs["One-bit page"][0]["resource_path"], "PNG")
        for entry in outputs.get("Summary", []):
            ink = int(numpy.count_nonzero(~numpy.asarray(page)))
            with open(entry["resource_path"], "wb") as handle:
                handle.write(page_summary(page.width, page.height, ink, polarity, rodan.__name__))
        return True


class SummaryCheck(RodanTask):
    """Reads the package's own type back: proves it flows between jobs."""

    name = "Rodan style - Summary size"
    category = "Test"
    settings = {"type": "object", "job_queue": "celery"}
    input_port_types = [
        {"name": "Summary", "minimum": 1, "maximum": 1, "resource_types": ["application/x-rodan-style+xml"]}
    ]
    output_port_types = [{"name": "Size", "minimum": 1, "maximum": 1, "resource_types": ["text/plain"]}]

    def run_my_task(self, inputs, settings, outputs):
        with open(outputs["Size"][0]["resource_path"], "w") as handle:
            handle.write(page_size(inputs["Summary"][0]["resource_path"]))
        return True
