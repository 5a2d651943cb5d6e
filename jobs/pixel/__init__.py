"""Pixel (``Pixel_js``): separating a page into layers by hand in the browser.

The page (``frontend/``, built by Vite into ``static/build/``) shows the
page image by deep-zoom tiles with the layers drawn over it, keeps the
user's edits as compact operations, saves them on the server as the user
works (``rodan.interactive_work``), and submits them; the job validates the
submission and, on its re-run, rasterises the operations at full resolution
and writes Rodan's outputs (rodan-compat.md §7.2).
"""

__version__ = "0.1.0"
