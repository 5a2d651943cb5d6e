"""Rodan's Resource Distributor and Labeler jobs."""

import shutil

from rodan.jobs.base import RodanTask


def _any_type(mimetype):
    return True


class ResourceDistributor(RodanTask):
    name = "Resource Distributor"
    author = "Rodan team"
    description = "Passes its input resource on unchanged, so one resource can feed several jobs."
    category = "Miscellaneous"
    settings = {"job_queue": "celery", "type": "object"}
    input_port_types = [{"name": "Resource input", "minimum": 1, "maximum": 1, "resource_types": _any_type}]
    output_port_types = [{"name": "Resource output", "minimum": 1, "maximum": 1, "resource_types": _any_type}]

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
    settings = {
        "job_queue": "celery",
        "type": "object",
        "required": ["Label"],
        "properties": {"Label": {"type": "string", "minLength": 1, "maxLength": 36, "default": "labelled"}},
    }
    input_port_types = [{"name": "Resource", "minimum": 1, "maximum": 100, "resource_types": _any_type}]
    output_port_types = []

    def run_my_task(self, inputs, settings, outputs):
        from rodan.models import Label
        from rodan.storage import resources_for_paths

        label, _ = Label.objects.get_or_create(name=settings["Label"])
        for resource in resources_for_paths(entry["resource_path"] for entry in inputs["Resource"]):
            resource.labels.add(label)
        return True
