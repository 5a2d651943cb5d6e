"""Reading Neon's MEI, and the two forms of a page: "sb-based" (Rodan's) and line-by-line (verovio's).

sb-based: one ``staff/layer`` in the section, each ``<sb facs>`` starting a
system, an ``sb`` possibly inside a syllable that runs over the break.

Line-by-line: ``<facsimile type="transcription">``, and in the section a
``<pb facs="#surface">`` then one ``<section type="neon-neume-line" n=<sb n>>``
per system holding ``<staff xml:id=<sb id> facs=<sb facs>><layer>...``; a
syllable over a break becomes two, linked by ``@precedes``/``@follows``, and
the custodes that end its first system follow it (verovio ignores a custos
inside a syllable).

Converting there and back gives the same elements, attributes, ids and
zones: what the line form needs beyond the sb form is derived from names
(``-neon-`` suffixes) that the way back removes.
"""

import copy

from lxml import etree

MEI_NS = "http://www.music-encoding.org/ns/mei"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
LINE_TYPE = "neon-neume-line"
TRANSCRIPTION = "transcription"
#: A surface without an id gets this one while it is in the line form (the ``pb`` must point at it).
SURFACE_ID = "neon-surface"
LINE_SUFFIX = "-neon-line-"
PART_SUFFIX = "-neon-part-"
#: The largest MEI text read (the saved work's bound, rodan.interactive_work).
MAX_BYTES = 8 * 1024 * 1024


class MeiError(ValueError):
    """The MEI cannot be read or converted; the message is a sentence for the user."""


def tag(name):
    return f"{{{MEI_NS}}}{name}"


def local(element):
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def parse(text):
    """The MEI document in ``text`` (str or bytes), or MeiError saying why it is not one."""
    if isinstance(text, str):
        text = text.encode("utf-8")
    if len(text) > MAX_BYTES:
        raise MeiError(f"The MEI is {len(text)} bytes long; at most {MAX_BYTES} are accepted.")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=True,
                             huge_tree=False)
    try:
        root = etree.fromstring(text, parser)
    except etree.XMLSyntaxError as exc:
        raise MeiError(f"The MEI is not well-formed XML: {exc}.") from None
    if root.tag != tag("mei"):
        raise MeiError(f"The document's root element is <{etree.QName(root).localname}> in namespace "
                       f"{etree.QName(root).namespace or '(none)'}; an MEI document has <mei> in {MEI_NS}.")
    return root.getroottree()


def serialize(tree):
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode("utf-8")


def is_line_form(root):
    return root.find(f".//{tag('section')}[@type='{LINE_TYPE}']") is not None


def _surface(root):
    surfaces = root.findall(f"{tag('music')}/{tag('facsimile')}/{tag('surface')}")
    if len(surfaces) != 1:
        raise MeiError(f"The MEI must have one <surface> in music/facsimile (the page); it has {len(surfaces)}.")
    return surfaces[0]


def _the_layer(root):
    """The one ``section/staff/layer`` of an sb-based page."""
    layers = root.findall(f".//{tag('section')}/{tag('staff')}/{tag('layer')}")
    if len(layers) != 1:
        raise MeiError(f"An sb-based page has one staff with one layer in its section; this MEI has {len(layers)}.")
    return layers[0]


def _new(name, attributes):
    element = etree.Element(tag(name))
    for key, value in attributes.items():
        element.set(key, value)
    return element


def to_lines(tree):
    """A copy of the sb-based ``tree`` in the line-by-line form verovio lays out from zones."""
    tree = copy.deepcopy(tree)
    root = tree.getroot()
    surface = _surface(root)
    surface.getparent().set("type", TRANSCRIPTION)
    if surface.get(XML_ID) is None:
        surface.set(XML_ID, SURFACE_ID)
    layer = _the_layer(root)
    staff = layer.getparent()
    section = staff.getparent()
    staff_id, layer_id = staff.get(XML_ID, "neon-staff"), layer.get(XML_ID, "neon-layer")

    lines = []  # (sb, [items])

    def start_line(sb):
        lines.append((sb, []))

    for item in list(layer):
        if local(item) == "sb":
            start_line(item)
            continue
        if not lines:
            raise MeiError(f"The layer's first element is <{local(item)}>; an sb-based page starts with <sb>.")
        if local(item) == "syllable" and item.find(tag("sb")) is not None:
            ident = item.get(XML_ID) or "neon-syllable"
            part, number = item, 1
            children = list(item)
            for child in children:
                item.remove(child)
            lines[-1][1].append(part)
            for child in children:
                if local(child) == "sb":
                    # verovio draws no custos inside a syllable: the system's closing custodes follow the part
                    while len(part) and local(part[-1]) == "custos":
                        custos = part[-1]
                        part.remove(custos)
                        lines[-1][1].insert(lines[-1][1].index(part) + 1, custos)
                    number += 1
                    following = _new("syllable", {XML_ID: f"{ident}{PART_SUFFIX}{number}"})
                    part.set("precedes", f"#{following.get(XML_ID)}")
                    following.set("follows", f"#{part.get(XML_ID)}")
                    start_line(child)
                    lines[-1][1].append(following)
                    part = following
                else:
                    part.append(child)
            continue
        lines[-1][1].append(item)

    section.remove(staff)
    section.append(_new("pb", {"facs": f"#{surface.get(XML_ID)}"}))
    for number, (sb, items) in enumerate(lines, 1):
        line = _new("section", {XML_ID: f"{staff_id}{LINE_SUFFIX}{number}", "type": LINE_TYPE,
                                "n": sb.get("n", str(number))})
        staff_attributes = {k: v for k, v in staff.attrib.items() if k != XML_ID}
        line_staff = _new("staff", {**staff_attributes, XML_ID: sb.get(XML_ID, f"neon-sb-{number}"),
                                    "facs": sb.get("facs", "")})
        layer_attributes = dict(layer.attrib)  # in their order, the id replaced in place
        layer_attributes[XML_ID] = layer_id if number == 1 else f"{layer_id}{LINE_SUFFIX}{number}"
        line_layer = _new("layer", layer_attributes)
        line_layer.extend(items)
        line_staff.append(line_layer)
        line.append(line_staff)
        section.append(line)
    return tree


def to_sb(tree):
    """A copy of the line-by-line ``tree`` in Rodan's sb-based form (the inverse of ``to_lines``)."""
    tree = copy.deepcopy(tree)
    root = tree.getroot()
    surface = _surface(root)
    facsimile = surface.getparent()
    if facsimile.get("type") == TRANSCRIPTION:
        del facsimile.attrib["type"]
    if surface.get(XML_ID) == SURFACE_ID:
        del surface.attrib[XML_ID]
    lines = root.findall(f".//{tag('section')}[@type='{LINE_TYPE}']")
    section = lines[0].getparent()
    if any(line.getparent() is not section for line in lines):
        raise MeiError("Every system (<section type=\"neon-neume-line\">) must be in the same section.")
    first_staff = lines[0].find(tag("staff"))
    first_layer = first_staff.find(tag("layer")) if first_staff is not None else None
    if first_layer is None:
        raise MeiError("The first system has no <staff> with a <layer>.")
    staff_id = lines[0].get(XML_ID, "").rsplit(LINE_SUFFIX, 1)[0]
    staff = _new("staff", {k: v for k, v in first_staff.attrib.items() if k not in (XML_ID, "facs")})
    if staff_id and staff_id != "neon-staff":
        staff.set(XML_ID, staff_id)
        staff.attrib.update({k: staff.attrib.pop(k) for k in list(staff.attrib) if k != XML_ID})  # id first
    layer = _new("layer", dict(first_layer.attrib))
    if layer.get(XML_ID) == "neon-layer":
        del layer.attrib[XML_ID]
    staff.append(layer)

    by_id = {}
    for number, line in enumerate(lines, 1):
        line_staff = line.find(tag("staff"))
        line_layer = line_staff.find(tag("layer")) if line_staff is not None else None
        if line_layer is None:
            raise MeiError(f"System {number} has no <staff> with a <layer>.")
        sb = _new("sb", {})
        if line_staff.get(XML_ID) and not line_staff.get(XML_ID).startswith("neon-sb-"):
            sb.set(XML_ID, line_staff.get(XML_ID))
        sb.set("n", line.get("n", str(number)))
        if line_staff.get("facs"):
            sb.set("facs", line_staff.get("facs"))
        items = list(line_layer)
        joined = items[0] if items and local(items[0]) == "syllable" else None
        head = by_id.get((joined.get("follows") or "").removeprefix("#")) if joined is not None else None
        if head is not None and head.get("precedes") == f"#{joined.get(XML_ID)}":
            # the rest of a syllable that runs over the break: the sb goes inside it
            del head.attrib["precedes"]
            for trailing in list(head.itersiblings()):  # custodes that closed the previous system
                head.append(trailing)
            head.append(sb)
            head.extend(list(joined))
            if joined.get("precedes"):
                head.set("precedes", joined.get("precedes"))
            by_id[joined.get(XML_ID)] = head
            items = items[1:]
        else:
            layer.append(sb)
        for item in items:
            layer.append(item)
            if local(item) == "syllable" and item.get(XML_ID):
                by_id[item.get(XML_ID)] = item
        section.remove(line)
    for pb in section.findall(tag("pb")):
        section.remove(pb)
    section.append(staff)
    return tree
