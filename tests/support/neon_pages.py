"""Page images for Neon's MEI fixtures: the surface's size, each system's staff drawn where its zone is."""

from lxml import etree
from PIL import Image, ImageDraw

XML_ID = "{http://www.w3.org/XML/1998/namespace}id"


def surface_size(mei_path):
    """(width, height) of the MEI's facsimile surface."""
    surface = etree.parse(str(mei_path)).find(".//{*}surface")
    return int(surface.get("lrx")), int(surface.get("lry"))


def staff_page_image(mei_path, folder):
    """Write a grey page the size of the surface with each system's four staff lines drawn; its path."""
    tree = etree.parse(str(mei_path))
    image = Image.new("RGB", surface_size(mei_path), (236, 228, 210))
    draw = ImageDraw.Draw(image)
    zones = {zone.get(XML_ID): zone for zone in tree.iter("{*}zone")}
    for sb in tree.iter("{*}sb"):
        ulx, uly, lrx, lry = (int(zones[sb.get("facs")[1:]].get(k)) for k in ("ulx", "uly", "lrx", "lry"))
        for line in range(4):
            y = uly + line * (lry - uly) // 3
            draw.line([(ulx, y), (lrx, y)], fill=(60, 40, 30), width=2)
    path = folder / f"{mei_path.stem}.png"
    image.save(path)
    return path
