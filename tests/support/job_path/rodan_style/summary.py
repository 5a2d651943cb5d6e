"""The package's own file type (``resource_types.yaml``), written with lxml."""

from lxml import etree


def page_summary(width, height, ink_pixels, polarity_index, runtime):
    """The summary document of one page."""
    root = etree.Element("page", width=str(width), height=str(height), runtime=runtime)
    etree.SubElement(root, "ink", pixels=str(ink_pixels))
    etree.SubElement(root, "polarity", index=repr(polarity_index))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def page_size(path):
    """``<width>x<height>`` from a summary document."""
    root = etree.parse(path).getroot()
    return f"{root.get('width')}x{root.get('height')}"
