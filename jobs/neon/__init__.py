"""Neon (``Neon``): correcting neume encodings in the browser over the page image.

The job keeps Rodan's contract (rodan-compat.md §7.3). The MEI Rodan's jobs
write is "sb-based"; stock verovio lays neumes out from their zones only in
the line-by-line form, so ``mei`` converts one way when the page opens and
back when it submits, on the server, where the submission is checked anyway
(``checks``). The page (``frontend/``, built by Vite into ``static/build/``)
renders with verovio from npm in a Web Worker over the deep-zoom page image,
edits the MEI document itself, saves it on the server as the user works
(``rodan.interactive_work``) and submits it.
"""

__version__ = "0.1.0"
