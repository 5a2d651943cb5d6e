"""What a Neon page must be to be accepted: the structure Neon writes, ids and zones consistent.

``problems`` lists every fault as a sentence (at most ``MAX_PROBLEMS``), so
a refused submission says all that is wrong at once; an empty list means
the page is accepted.
"""

from .mei import XML_ID, local, tag

PITCH_NAMES = set("abcdefg")
OCTAVES = range(0, 10)
CLEF_SHAPES = {"C", "F"}
ACCIDENTALS = {"f", "n", "s"}
#: Each element and the parent it must have.
PARENTS = {"nc": {"neume"}, "neume": {"syllable"}, "syl": {"syllable"}, "liquescent": {"nc"}}
#: Glyphs drawn on the page: each must point at its zone.
GLYPHS = {"nc", "clef", "custos", "accid", "divLine", "sb"}
#: How far a zone (a staff) may be turned, in degrees either way (the page's bound too, doc.ts).
MAX_ROTATION = 45
MAX_ELEMENTS = 200_000
MAX_PROBLEMS = 20


def _name(element):
    ident = element.get(XML_ID)
    return f'<{local(element)} xml:id="{ident}">' if ident else f"<{local(element)}> (line {element.sourceline})"


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _box(element, problems):
    """(ulx, uly, lrx, lry) of a zone or surface, or None after noting what is wrong."""
    values = [_number(element.get(key)) for key in ("ulx", "uly", "lrx", "lry")]
    if None in values:
        problems.append(f"{_name(element)} needs numeric ulx, uly, lrx and lry.")
        return None
    ulx, uly, lrx, lry = values
    if lrx < ulx or lry < uly:
        problems.append(f"{_name(element)} has its lower right corner ({lrx:g}, {lry:g}) above or left of its "
                        f"upper left corner ({ulx:g}, {uly:g}).")
        return None
    return values


def _check_zones(root, image_size, problems):
    """The zones by id, each checked to lie inside its surface and the image."""
    zones = {}
    width, height = image_size
    for surface in root.iter(tag("surface")):
        bounds = _box(surface, problems)
        for zone in surface.iter(tag("zone")):
            box = _box(zone, problems)
            if zone.get(XML_ID):
                zones[zone.get(XML_ID)] = zone
            if zone.get("rotate") is not None:
                angle = _number(zone.get("rotate"))
                if angle is None or not -MAX_ROTATION <= angle <= MAX_ROTATION:
                    problems.append(f'{_name(zone)} has rotate="{zone.get("rotate")}"; a staff turns by a number of '
                                    f"degrees from -{MAX_ROTATION} to {MAX_ROTATION}.")
            if box is None or bounds is None:
                continue
            ulx, uly, lrx, lry = box
            if ulx < bounds[0] or uly < bounds[1] or lrx > bounds[2] or lry > bounds[3]:
                problems.append(f"{_name(zone)} ({ulx:g}, {uly:g})-({lrx:g}, {lry:g}) is not inside its surface "
                                f"({bounds[0]:g}, {bounds[1]:g})-({bounds[2]:g}, {bounds[3]:g}).")
            elif ulx < 0 or uly < 0 or lrx > width or lry > height:
                problems.append(f"{_name(zone)} ({ulx:g}, {uly:g})-({lrx:g}, {lry:g}) is outside the page image, "
                                f"which is {width} x {height} pixels.")
    return zones


def _check_element(element, zones, problems):
    name = local(element)
    parents = PARENTS.get(name)
    if parents and local(element.getparent()) not in parents:
        problems.append(f"{_name(element)} is inside <{local(element.getparent())}>; "
                        f"it must be inside <{'> or <'.join(sorted(parents))}>.")
    facs = element.get("facs")
    if facs is not None:
        if not facs.startswith("#") or facs[1:] not in zones:
            problems.append(f'{_name(element)} points at facs="{facs}", which is no zone of the page.')
    elif name in GLYPHS:
        problems.append(f"{_name(element)} has no @facs: every {name} must point at its zone on the page.")
    if name in ("nc", "custos"):
        if element.get("pname") not in PITCH_NAMES:
            problems.append(f'{_name(element)} has pname="{element.get("pname")}"; a pitch name is a letter a to g.')
        if element.get("oct") not in {str(o) for o in OCTAVES}:
            problems.append(f'{_name(element)} has oct="{element.get("oct")}"; an octave is a whole number 0 to 9.')
    elif name == "clef":
        if element.get("shape") not in CLEF_SHAPES:
            problems.append(f'{_name(element)} has shape="{element.get("shape")}"; a neume clef is C or F.')
        if element.get("line") not in {"1", "2", "3", "4", "5"}:
            problems.append(f'{_name(element)} has line="{element.get("line")}"; a clef sits on line 1 to 5.')
    elif name == "accid" and element.get("accid") not in ACCIDENTALS:
        problems.append(f'{_name(element)} has accid="{element.get("accid")}"; Neon writes f, n or s.')
    elif name == "neume" and element.find(tag("nc")) is None:
        problems.append(f"{_name(element)} has no <nc>: an empty neume cannot be drawn.")


def problems(tree, image_size):
    """Every fault of the sb-based page ``tree`` against an image of ``image_size`` (width, height)."""
    root = tree.getroot()
    found = []
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    if len(elements) > MAX_ELEMENTS:
        return [f"The MEI has {len(elements)} elements; at most {MAX_ELEMENTS} are accepted."]
    seen = set()
    for element in elements:
        ident = element.get(XML_ID)
        if ident is not None:
            if ident in seen:
                found.append(f'The id "{ident}" is used by more than one element; ids must be unique.')
            seen.add(ident)
    zones = _check_zones(root, image_size, found)
    layers = root.findall(f".//{tag('section')}/{tag('staff')}/{tag('layer')}")
    if len(layers) != 1 or layers[0].find(tag("sb")) is None:
        found.append("The page must have one <staff> with one <layer> in its section, starting systems with <sb>.")
    for element in elements:
        if element.tag != tag("zone") and element.tag != tag("surface"):
            _check_element(element, zones, found)
    if len(found) > MAX_PROBLEMS:
        found = found[:MAX_PROBLEMS] + [f"... and {len(found) - MAX_PROBLEMS} more problems."]
    return found
