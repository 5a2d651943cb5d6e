"""Gamera's masking jobs: logical AND and XOR of two one-bit images of one size.

Gamera combines black pixels (its 1s): AND keeps ink present in both images,
XOR ink present in exactly one. Both are single NumPy operations here.
"""

from rodan.jobs.base import RodanTask

from . import engine, fast
from .common import load, port, run_gamera, save, settings_schema

SOURCE = "Source image"
MASK = "Mask image"
OUTPUT = "Source image with mask applied"


def _mask_job(class_name, job_name, method, ink_of, text):
    def run_my_task(self, inputs, settings, outputs):
        source = load(inputs, SOURCE, "onebit")
        mask = load(inputs, MASK, "onebit")
        fast.check_same_size(self.name, source, mask)
        if engine.use_fast():
            result = ~ink_of(~source, ~mask)
        else:
            result = run_gamera(method, source, mask)
        save(result, outputs, OUTPUT)
        return True

    return type(
        class_name,
        (RodanTask,),
        {
            "__module__": __name__,
            "__doc__": text,
            "name": job_name,
            "author": "Rodan contributors",
            "description": text,
            "category": "Masking",
            "settings": settings_schema(),
            "input_port_types": [port(SOURCE, ["image/onebit+png"]), port(MASK, ["image/onebit+png"])],
            "output_port_types": [port(OUTPUT, ["image/onebit+png"], 1, 2)],
            "run_my_task": run_my_task,
        },
    )


MaskAnd = _mask_job(
    "MaskAnd",
    "Mask (logical 'and')",
    "and_image",
    lambda a, b: a & b,
    "Keep the source's black pixels where the mask is black too. The two images must have the same size.",
)
MaskXor = _mask_job(
    "MaskXor",
    "Mask (logical 'xor')",
    "xor_image",
    lambda a, b: a ^ b,
    "Black where exactly one of the source and the mask is black. The two images must have the same size.",
)
