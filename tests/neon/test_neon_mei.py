"""Neon's MEI: sb-based to line-by-line and back on every fixture, and the checks a submission passes."""

from pathlib import Path

import pytest
from lxml import etree
from neon_pages import surface_size

from rodan.jobs.neon import checks, mei

MEI = "{http://www.music-encoding.org/ns/mei}"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
MEI_FILES = sorted((Path(__file__).parent / "fixtures").glob("*.mei"))


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
    (lambda r: _first(r, "zone").set("rotate", "90"), 'rotate="90"; a staff turns by a number of degrees'),
    (lambda r: _first(r, "zone").set("rotate", "slightly"), 'rotate="slightly"'),
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


def _add_system(root, first, box):
    """A system as the page inserts it (doc.ts insertStaff): a line section with a staff on a new zone and a C clef.

    Placed first, it takes the first system's section and layer ids, as the page does.
    """
    surface = root.find(f".//{MEI}surface")
    etree.SubElement(surface, f"{MEI}zone", {XML_ID: "m-zone-staff", **dict(zip(("ulx", "uly", "lrx", "lry"), box))})
    etree.SubElement(surface, f"{MEI}zone", {XML_ID: "m-zone-clef", "ulx": box[0], "uly": box[1],
                                              "lrx": str(int(box[0]) + 20), "lry": str(int(box[1]) + 20)})
    lines = root.findall(f".//{MEI}section[@type='neon-neume-line']")
    line = etree.Element(f"{MEI}section", {XML_ID: "m-line-1", "type": "neon-neume-line"})
    staff = etree.SubElement(line, f"{MEI}staff", {XML_ID: "m-sb-new", "n": "1", "facs": "#m-zone-staff"})
    layer = etree.SubElement(staff, f"{MEI}layer", {XML_ID: "m-layer-1", "n": "1"})
    etree.SubElement(layer, f"{MEI}clef", {XML_ID: "m-clef-new", "facs": "#m-zone-clef", "shape": "C", "line": "4"})
    if first:
        lines[0].addprevious(line)
        old_layer = lines[0].find(f"{MEI}staff/{MEI}layer")
        line.set(XML_ID, lines[0].get(XML_ID))
        lines[0].set(XML_ID, "m-line-1")
        layer.set(XML_ID, old_layer.get(XML_ID))
        old_layer.set(XML_ID, "m-layer-1")
    else:
        lines[-1].addnext(line)
    for number, section in enumerate(root.findall(f".//{MEI}section[@type='neon-neume-line']"), 1):
        section.set("n", str(number))


@pytest.mark.parametrize("first", [True, False], ids=["above the first", "below the last"])
def test_an_inserted_system_comes_back_as_an_sb_and_is_accepted(first):
    path = next(p for p in MEI_FILES if p.name == "gloria_mei4.mei")
    source = read(path)
    lines = mei.to_lines(mei.parse(path.read_bytes()))
    _add_system(lines.getroot(), first, ("100", "20" if first else "470", "1100", "80" if first else "530"))
    back = mei.to_sb(mei.parse(mei.serialize(lines))).getroot()
    sbs = back.findall(f".//{MEI}sb")
    assert [sb.get(XML_ID) for sb in sbs] == (["m-sb-new", "sb-b0002", "sb-b0039"] if first
                                              else ["sb-b0002", "sb-b0039", "m-sb-new"])
    assert [sb.get("n") for sb in sbs] == ["1", "2", "3"]
    new = next(sb for sb in sbs if sb.get(XML_ID) == "m-sb-new")
    assert new.get("facs") == "#m-zone-staff" and new.getnext().get(XML_ID) == "m-clef-new"
    # the page's staff and layer keep their ids; the checks accept the page
    assert back.find(f".//{MEI}staff").get(XML_ID) == source.find(f".//{MEI}staff").get(XML_ID)
    assert back.find(f".//{MEI}layer").get(XML_ID) == source.find(f".//{MEI}layer").get(XML_ID)
    assert checks.problems(back.getroottree(), surface_size(path)) == []
    # a system drawn past the page's bottom edge is refused
    back.find(f".//{MEI}zone[@{XML_ID}='m-zone-staff']").set("lry", "700")
    assert any("m-zone-staff" in p and "not inside its surface" in p
               for p in checks.problems(back.getroottree(), surface_size(path)))


def test_the_verified_mark_in_revision_desc_survives_the_round_trip():
    path = next(p for p in MEI_FILES if p.name == "kyrie_mei5.mei")
    lines = mei.to_lines(mei.parse(path.read_bytes()))
    head = lines.getroot().find(f"{MEI}meiHead")
    change = etree.SubElement(etree.SubElement(head, f"{MEI}revisionDesc"), f"{MEI}change",
                              {XML_ID: "m-change-1", "type": "neon-verified", "isodate": "2026-12-06T22:00:00"})
    etree.SubElement(etree.SubElement(change, f"{MEI}changeDesc"), f"{MEI}p").text = "Page verified in Neon."
    back = mei.to_sb(mei.parse(mei.serialize(lines))).getroot()
    kept = back.find(f"{MEI}meiHead/{MEI}revisionDesc/{MEI}change")
    assert kept.get("type") == "neon-verified" and kept.get("isodate") == "2026-12-06T22:00:00"
    assert checks.problems(back.getroottree(), surface_size(path)) == []
    kept.getparent().getparent().remove(kept.getparent())  # without the mark: the input again
    assert shape(back) == shape(read(path))
