"""Gamera's masking jobs: logical AND and XOR of two one-bit images of one size.

Gamera combines black pixels (its 1s): AND keeps ink present in both images,
XOR ink present in exactly one. Both are single NumPy operations here.
"""

from rodan.jobs.base import RodanTask
from rodan.jobs.kit import load, port, write_png

from . import engine, fast
from .common import run_gamera, settings_schema

SOURCE = "Source image"
MASK = "Mask image"
OUTPUT = "Source image with mask applied"


class MaskJob(RodanTask):
    """What both masking jobs share; each names its Gamera plugin and how it combines ink."""

    author = "Rodan contributors"
    category = "Masking"
    settings = settings_schema()
    input_port_types = [port(SOURCE, ["image/onebit+png"]), port(MASK, ["image/onebit+png"])]
    output_port_types = [port(OUTPUT, ["image/onebit+png"], 1, 2)]
    gamera_method = None

    @staticmethod
    def combine_ink(source_ink, mask_ink):
        raise NotImplementedError

    def run_my_task(self, inputs, settings, outputs):
        source = load(inputs, SOURCE, "onebit")
        mask = load(inputs, MASK, "onebit")
        fast.check_same_size(self.name, source, mask)
        if engine.use_fast():
            result = ~self.combine_ink(~source, ~mask)
        else:
            result = run_gamera(self.gamera_method, source, mask)
        write_png(outputs, OUTPUT, result)
        return True


class MaskAnd(MaskJob):
    name = "Mask (logical 'and')"
    description = "Keep the source's black pixels where the mask is black too. The two images must have the same size."
    gamera_method = "and_image"

    @staticmethod
    def combine_ink(source_ink, mask_ink):
        return source_ink & mask_ink


class MaskXor(MaskJob):
    name = "Mask (logical 'xor')"
    description = "Black where exactly one of the source and the mask is black. The two images must have the same size."
    gamera_method = "xor_image"

    @staticmethod
    def combine_ink(source_ink, mask_ink):
        return source_ink ^ mask_ink
