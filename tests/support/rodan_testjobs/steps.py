"""A text step whose behaviour the tests steer through its settings."""

import os
import time
from pathlib import Path

from rodan.jobs.base import RodanTask


class TextStep(RodanTask):
    """Appends ``Tag`` to its input text; can sleep, log each run, or fail on demand."""

    name = "Test - Text step"
    category = "Test"
    settings = {
        "job_queue": "celery",
        "type": "object",
        "properties": {
            "Tag": {"type": "string", "default": "step"},
            "Sleep": {"type": "number", "minimum": 0, "default": 0},
            "Ledger": {"type": "string", "default": ""},
            "Fail unless exists": {"type": "string", "default": ""},
            "Mode": {"enum": ["append", "upper"], "type": "string", "default": "append"},
        },
    }
    input_port_types = [{"name": "Text input", "minimum": 1, "maximum": 1, "resource_types": ["text/plain"]}]
    output_port_types = [{"name": "Text output", "minimum": 1, "maximum": 2, "resource_types": ["text/plain"]}]

    def run_my_task(self, inputs, settings, outputs):
        text = Path(inputs["Text input"][0]["resource_path"]).read_text()
        if settings.get("Ledger"):
            with open(settings["Ledger"], "a") as ledger:
                ledger.write(f"{settings.get('Tag')} {inputs['Text input'][0]['resource_name']} {os.getpid()}\n")
        deadline = time.monotonic() + float(settings.get("Sleep", 0))
        while time.monotonic() < deadline:  # short sleeps: a cancel lands between them
            time.sleep(0.05)
        marker = settings.get("Fail unless exists")
        if marker and not os.path.exists(marker):
            raise RuntimeError(f"marker {marker} is missing")
        result = text.upper() if settings.get("Mode") == 1 else f"{text}+{settings.get('Tag')}"
        for entry in outputs["Text output"]:
            Path(entry["resource_path"]).write_text(result)
        return True


class TextFanIn(RodanTask):
    """Joins a list of texts into one: exercises list ports."""

    name = "Test - Join texts"
    category = "Test"
    settings = {"job_queue": "celery", "type": "object"}
    input_port_types = [
        {"name": "Texts", "minimum": 1, "maximum": 1, "is_list": True, "resource_types": ["text/plain"]}
    ]
    output_port_types = [{"name": "Joined", "minimum": 1, "maximum": 1, "resource_types": ["text/plain"]}]

    def run_my_task(self, inputs, settings, outputs):
        texts = [Path(entry["resource_path"]).read_text() for entry in inputs["Texts"][0]]
        Path(outputs["Joined"][0]["resource_path"]).write_text("|".join(texts))
        return True


class TimeBoxedStep(TextStep):
    """The text step with its own short time limits: a job class may set them."""

    name = "Test - Time-boxed step"
    soft_time_limit = 2
    time_limit = 30
