"""The shared job kit: declarations, settings as Rodan delivers them, image inputs, outputs."""

import json

import numpy as np
import pytest

from rodan.imaging import ImageError, load_image, save_png
from rodan.jobs import kit

SCHEMA = kit.settings_schema(
    "Python3",
    "Example settings",
    {
        "Size": {"type": "integer", "default": 15},
        "Format": {"type": "string", "enum": ["Dense", "RLE"], "default": "RLE"},
    },
)


def test_port_copies_mimetypes_and_keeps_predicates():
    types = ("image/onebit+png",)
    assert kit.port("In", types) == {
        "name": "In", "minimum": 1, "maximum": 1, "resource_types": ["image/onebit+png"], "is_list": False,
    }
    assert kit.port("Any", kit.any_type, 0, 0, is_list=True)["resource_types"] is kit.any_type


def test_settings_schema_leaves_out_what_is_not_given():
    assert kit.settings_schema() == {"type": "object", "job_queue": "celery"}
    assert SCHEMA["title"] == "Example settings" and SCHEMA["job_queue"] == "Python3"
    assert "required" not in SCHEMA
    assert kit.settings_schema(required=["Size"])["required"] == ["Size"]


def test_setting_gives_the_value_or_the_default_enums_as_their_index():
    assert kit.setting({"Size": 3}, SCHEMA, "Size") == 3
    assert kit.setting({}, SCHEMA, "Size") == 15
    assert kit.setting({}, SCHEMA, "Format") == 1 == kit.enum_index(SCHEMA["properties"]["Format"], "RLE")
    assert kit.setting({"Format": 0}, SCHEMA, "Format") == 0


def _entry(path, name="folio 1r"):
    return {"resource_path": str(path), "resource_type": "image/rgb+png", "resource_name": name}


def test_load_checks_the_pixel_type_and_names_the_port_and_resource(tmp_path):
    path = tmp_path / "page"
    save_png(np.zeros((4, 5, 3), np.uint8), str(path), "image/rgb+png")
    assert kit.load({"Page": [_entry(path)]}, "Page").shape == (4, 5, 3)
    assert kit.load({"Page": [_entry(path)]}, "Page", "rgb", "greyscale").shape == (4, 5, 3)
    with pytest.raises(ImageError, match=r"^Page \(folio 1r\): expected an 8-bit greyscale image"):
        kit.load({"Page": [_entry(path)]}, "Page", "greyscale")
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(ImageError, match="^Page is empty"):
        kit.load({"Page": [_entry(tmp_path / "empty", name="")]}, "Page")


def test_writes_reach_every_entry_of_a_port_and_skip_unused_ports(tmp_path):
    grey = np.array([[0, 255], [40, 200]], np.uint8)
    entries = [
        {"resource_path": str(tmp_path / "a"), "resource_type": "image/greyscale+png"},
        {"resource_path": str(tmp_path / "b"), "resource_type": "image/onebit+png"},
    ]
    kit.write_png({"Out": entries}, "Out", grey)
    assert np.array_equal(load_image(str(tmp_path / "a")), grey)
    assert load_image(str(tmp_path / "b")).dtype == bool
    text = [{"resource_path": str(tmp_path / n), "resource_type": "application/json"} for n in "cd"]
    kit.write_json({"Out": text}, "Out", {"é": [1, 2]}, separators=(",", ":"))
    assert [json.loads((tmp_path / n).read_text()) for n in "cd"] == [{"é": [1, 2]}] * 2
    assert (tmp_path / "c").read_text() == '{"\\u00e9":[1,2]}'
    kit.write_text({}, "Unused", "nothing")  # an optional port nobody connected
