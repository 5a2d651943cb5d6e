"""Rodan's Resource Distributor and Labeler jobs."""

import shutil

from rodan.jobs import kit
from rodan.jobs.base import RodanTask


class ResourceDistributor(RodanTask):
    name = "Resource Distributor"
    author = "Rodan team"
    description = "Passes its input resource on unchanged, so one resource can feed several jobs."
    category = "Miscellaneous"
    settings = kit.settings_schema()
    input_port_types = [kit.port("Resource input", kit.any_type)]
    output_port_types = [kit.port("Resource output", kit.any_type)]

    def run_my_task(self, inputs, settings, outputs):
        source = inputs["Resource input"][0]
        target = outputs["Resource output"][0]
        if source["resource_type"] != target["resource_type"]:
            self.error_details = (
                f"The input is {source['resource_type']} but the output port was typed "
                f"{target['resource_type']}; connect the distributor to a job that accepts the input's type."
            )
            return False
        shutil.copyfile(source["resource_path"], target["resource_path"])
        return True


class Labeler(RodanTask):
    name = "Labeler"
    author = "Rodan team"
    description = "Adds a label to its input resources (a workflow end point with no outputs)."
    category = "Utility"
    settings = kit.settings_schema(
        required=["Label"],
        properties={"Label": {"type": "string", "minLength": 1, "maxLength": 36, "default": "labelled"}},
    )
    input_port_types = [kit.port("Resource", kit.any_type, 1, 100)]
    output_port_types = []

    def run_my_task(self, inputs, settings, outputs):
        from rodan.models import Label
        from rodan.storage import resources_for_paths

        label, _ = Label.objects.get_or_create(name=settings["Label"])
        for resource in resources_for_paths(entry["resource_path"] for entry in inputs["Resource"]):
            resource.labels.add(label)
        return True
