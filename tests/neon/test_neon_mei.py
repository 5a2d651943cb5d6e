"""Neon's MEI: sb-based to line-by-line and back on every fixture, and the checks a submission passes."""

from pathlib import Path

import pytest
from lxml import etree

from rodan.jobs.neon import checks, mei

MEI = "{http://www.music-encoding.org/ns/mei}"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
MEI_FILES = sorted((Path(__file__).parent / "fixtures").glob("*.mei"))


def surface_size(path):
    surface = read(path).find(f".//{MEI}surface")
    return int(surface.get("lrx")), int(surface.get("lry"))


def shape(element):
    """An element as (tag, attributes, text, children), whitespace between elements ignored."""
    return (element.tag, dict(element.attrib), (element.text or "").strip(), [shape(c) for c in element])


def read(path):
    return etree.parse(str(path), etree.XMLParser(remove_blank_text=True)).getroot()


@pytest.mark.parametrize("path", MEI_FILES, ids=lambda p: p.name)
def test_round_trip_gives_back_the_same_document(path):
    lines = mei.to_lines(mei.parse(path.read_bytes()))
    root = lines.getroot()
    systems = root.findall(f".//{MEI}section[@type='neon-neume-line']")
    sbs = read(path).findall(f".//{MEI}sb")
    # each system a section holding a staff whose id and zone are its sb's
    assert [s.find(f"{MEI}staff").get(XML_ID) for s in systems] == [sb.get(XML_ID) for sb in sbs]
    assert [s.find(f"{MEI}staff").get("facs") for s in systems] == [sb.get("facs") for sb in sbs]
    assert root.find(f".//{MEI}sb") is None and root.find(f".//{MEI}facsimile").get("type") == "transcription"
    assert root.find(f".//{MEI}pb").get("facs") == "#" + root.find(f".//{MEI}surface").get(XML_ID)
    back = mei.parse(mei.serialize(lines))  # through text, as the page sends it
    assert shape(mei.to_sb(back).getroot()) == shape(read(path))


def test_a_syllable_over_a_break_is_split_and_joined():
    path = next(p for p in MEI_FILES if p.name == "gloria_mei4.mei")
    spanning = [s for s in read(path).iter(f"{MEI}syllable") if s.find(f"{MEI}sb") is not None]
    assert len(spanning) == 1
    lines = mei.to_lines(mei.parse(path.read_bytes())).getroot()
    first = lines.find(f".//{MEI}syllable[@{XML_ID}='{spanning[0].get(XML_ID)}']")
    rest = lines.find(f".//{MEI}syllable[@follows='#{spanning[0].get(XML_ID)}']")
    assert first.get("precedes") == "#" + rest.get(XML_ID)
    assert first.getnext().tag == f"{MEI}custos"  # verovio draws no custos inside a syllable
    systems = lines.findall(f".//{MEI}section[@type='neon-neume-line']")
    assert first in systems[0].iter() and rest in systems[1].iter()
    assert rest.find(f"{MEI}syl") is None and len(rest.findall(f"{MEI}neume")) == 1


@pytest.mark.parametrize("path", MEI_FILES, ids=lambda p: p.name)
def test_fixtures_pass_the_checks(path):
    assert checks.problems(mei.parse(path.read_bytes()), surface_size(path)) == []


def _broken(edit):
    path = next(p for p in MEI_FILES if p.name == "alleluia_mei4.mei")
    tree = mei.parse(path.read_bytes())
    edit(tree.getroot())
    return checks.problems(tree, surface_size(path))


def _first(root, name):
    return root.find(f".//{MEI}{name}")


def _move_nc_out(root):
    nc = _first(root, "nc")
    _first(root, "layer").append(nc)


BAD = [
    (lambda r: _first(r, "nc").set("pname", "h"), 'pname="h"; a pitch name is a letter a to g'),
    (lambda r: _first(r, "nc").set("oct", "x"), 'oct="x"; an octave'),
    (lambda r: _first(r, "clef").set("shape", "G"), "a neume clef is C or F"),
    (lambda r: _first(r, "clef").set("line", "7"), "a clef sits on line 1 to 5"),
    (lambda r: _first(r, "nc").set("facs", "#nowhere"), 'facs="#nowhere", which is no zone'),
    (lambda r: _first(r, "custos").attrib.pop("facs"), "has no @facs"),
    (_move_nc_out, "is inside <layer>; it must be inside <neume>"),
    (lambda r: _first(r, "zone").set("lrx", "5000"), "is not inside its surface"),
    (lambda r: _first(r, "zone").set("uly", "abc"), "needs numeric ulx, uly, lrx and lry"),
    (lambda r: _first(r, "neume").set(XML_ID, _first(r, "syllable").get(XML_ID)), "is used by more than one"),
]


@pytest.mark.parametrize("edit, sentence", BAD)
def test_each_fault_is_named(edit, sentence):
    found = _broken(edit)
    assert any(sentence in problem for problem in found), found


def test_zones_outside_the_image_are_named():
    path = next(p for p in MEI_FILES if p.name == "alleluia_mei4.mei")
    width, height = surface_size(path)
    found = checks.problems(mei.parse(path.read_bytes()), (width // 2, height))
    assert found and all("outside the page image" in p for p in found)


@pytest.mark.parametrize("text, sentence", [
    ("<mei", "not well-formed XML"),
    ('<mei xmlns="urn:other"/>', "an MEI document has <mei>"),
    ('<?xml version="1.0"?><!DOCTYPE mei [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
     '<mei xmlns="http://www.music-encoding.org/ns/mei">&x;</mei>', None),
])
def test_parse_refuses_what_is_not_mei(text, sentence):
    if sentence is None:  # external entities are never read
        root = mei.parse(text).getroot()
        assert "root:" not in etree.tostring(root).decode()
        return
    with pytest.raises(mei.MeiError, match=sentence):
        mei.parse(text)
