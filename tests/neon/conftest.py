"""Neon's fixtures: sb-based MEI pages of our own making, and a page image the size of each surface."""

import pytest
from lxml import etree
from PIL import Image, ImageDraw


def surface_size(path):
    surface = etree.parse(str(path)).find(".//{*}surface")
    return int(surface.get("lrx")), int(surface.get("lry"))


@pytest.fixture
def page_image(tmp_path):
    """Write a grey page with the systems' staff zones outlined, the size of ``mei_path``'s surface; its path."""

    def make(mei_path):
        width, height = surface_size(mei_path)
        image = Image.new("RGB", (width, height), (236, 228, 210))
        draw = ImageDraw.Draw(image)
        tree = etree.parse(str(mei_path))
        for sb in tree.iter("{*}sb"):
            zone = tree.find(f".//{{*}}zone[@{{http://www.w3.org/XML/1998/namespace}}id='{sb.get('facs')[1:]}']")
            ulx, uly, lrx, lry = (int(zone.get(k)) for k in ("ulx", "uly", "lrx", "lry"))
            for line in range(4):
                y = uly + line * (lry - uly) // 3
                draw.line([(ulx, y), (lrx, y)], fill=(60, 40, 30), width=2)
        path = tmp_path / f"{mei_path.stem}.png"
        image.save(path)
        return path

    return make
