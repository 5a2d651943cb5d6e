"""Neon's fixtures: sb-based MEI pages of our own making, and a page image the size of each surface."""

import pytest
from neon_pages import staff_page_image


@pytest.fixture
def page_image(tmp_path):
    """``page_image(mei_path)`` writes a grey page with the systems' staves drawn, the size of the surface; its path."""
    return lambda mei_path: staff_page_image(mei_path, tmp_path)
