"""Helpers for writing jobs: the code every family would otherwise write again.

Job metadata stays plain class attributes; ``port`` and ``settings_schema``
only spell out the dicts of the job contract (rodan-compat.md §4.1). The
others cover what ``run_my_task`` does around its real work: read a setting
as Rodan delivers it (§4.3), load an input image and check its pixel type,
and write a result to every entry of an output port (§4.3: a port used
twice gets two entries). Rodan's own packages do not use this module and
need not: it adds nothing to the contract.
"""

import json

from rodan.imaging import ImageError, convert_for, load_image, require_pixel_type, save_png
from rodan.jobs.base import DEFAULT_QUEUE


def port(name, resource_types, minimum=1, maximum=1, is_list=False):
    """A port type declaration; ``resource_types`` is a list of mimetypes or a predicate over them."""
    if not callable(resource_types):
        resource_types = list(resource_types)
    return {"name": name, "minimum": minimum, "maximum": maximum, "resource_types": resource_types, "is_list": is_list}


def any_type(mimetype):
    """Port predicate accepting every registered resource type."""
    return True


def settings_schema(queue=DEFAULT_QUEUE, title=None, properties=None, required=None):
    """A Draft-4 object schema with Rodan's non-schema ``job_queue`` key; the parts not given are left out."""
    schema = {} if title is None else {"title": title}
    schema.update(type="object", job_queue=queue)
    if required is not None:
        schema["required"] = list(required)
    if properties is not None:
        schema["properties"] = dict(properties)
    return schema


def enum_index(spec, value):
    """The index Rodan sends in place of ``value`` for a property with an ``enum`` (rodan-compat.md §4.3)."""
    return spec["enum"].index(value)


def setting(settings, schema, name):
    """A setting's value, or its schema default, since Rodan does not re-apply defaults (§4.3).

    An enum's default is given as its index, the form Rodan sends enum values in.
    """
    if name in settings:
        return settings[name]
    spec = schema["properties"][name]
    return enum_index(spec, spec["default"]) if "enum" in spec else spec["default"]


def load(inputs, port_name, *kinds):
    """The image array of the first resource on input ``port_name``, of one of the pixel ``kinds`` if any are named.

    Errors name the resource (or else the port) rather than a temporary path,
    and a wrong pixel type fails here, with a sentence, before any work.
    """
    entry = inputs[port_name][0]
    label = entry.get("resource_name") or port_name
    array = load_image(entry["resource_path"], label)
    if not kinds:
        return array
    try:
        return require_pixel_type(array, *kinds)
    except ImageError as exc:
        raise ImageError(f"{port_name} ({label}): {exc}") from None


def write_each(outputs, port_name, write):
    """Call ``write(path, resource_type)`` for every entry of output ``port_name`` (none when it is unused)."""
    for entry in outputs.get(port_name, ()):
        write(entry["resource_path"], entry["resource_type"])


def write_png(outputs, port_name, array):
    """Write ``array`` to every entry of the port, each converted to the PNG flavour of its resource type."""
    write_each(outputs, port_name, lambda path, resource_type: save_png(
        convert_for(array, resource_type), path, resource_type))


def write_text(outputs, port_name, text):
    """Write ``text`` (UTF-8) to every entry of the port."""
    def write(path, resource_type):
        with open(path, "w", encoding="utf-8") as stream:
            stream.write(text)

    write_each(outputs, port_name, write)


def write_json(outputs, port_name, value, **options):
    """Write ``value`` as JSON (``options`` as for ``json.dumps``) to every entry of the port."""
    write_text(outputs, port_name, json.dumps(value, **options))
