"""Pages for the MusicStaves tests: engraved by verovio with their no-staff twin (bench/staves/generate.py)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root, for bench.staves

from bench.staves.generate import render_page  # noqa: E402

#: Half an A4 page at 300 dpi: large enough for several staves, quick to render.
SIZE = (1754, 1240)
#: Seeds of the tuning split (the benchmark's held-out split starts at 10 000).
SEEDS = (1, 2, 3)


@pytest.fixture(scope="session")
def pages():
    return [render_page(seed, SIZE) for seed in SEEDS]
