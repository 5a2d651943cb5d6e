"""The front ends' component tests (Vitest, frontend/src/**/*.test.ts), run from pytest so `make test` and CI run them.

They need frontend/node_modules (`make frontend` runs `npm ci`): without it the
test is skipped, unless ``RODAN_REQUIRE_SERVICES=1`` (CI), where it fails.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
VITEST = FRONTEND / "node_modules" / ".bin" / "vitest"


def test_vitest_component_tests_pass(tmp_path):
    if (not VITEST.exists() or not shutil.which("node")) and os.environ.get("RODAN_REQUIRE_SERVICES") != "1":
        pytest.skip("frontend/node_modules is not installed (make frontend runs npm ci)")
    report = tmp_path / "vitest.json"
    finished = subprocess.run(
        ["npx", "--no-install", "vitest", "run", "--reporter=json", f"--outputFile={report}"],
        cwd=FRONTEND, capture_output=True, text=True, timeout=300,
    )
    assert report.exists(), f"vitest wrote no report:\n{finished.stdout[-3000:]}\n{finished.stderr[-3000:]}"
    result = json.loads(report.read_text())
    failed = [
        f"{test['fullName']}: {' '.join(test.get('failureMessages', []))[:500]}"
        for suite in result["testResults"]
        for test in suite["assertionResults"]
        if test["status"] == "failed"
    ]
    assert not failed, "\n".join(failed)
    assert finished.returncode == 0, finished.stderr[-3000:]
    # Every test file was found and ran: the router, the API's sentences, the stream reducer, saved work.
    files = {Path(suite["name"]).name for suite in result["testResults"]}
    assert {"router.test.ts", "api.test.ts", "rungrid.test.ts", "savedwork.test.ts"} <= files
    assert result["numPassedTests"] >= 30
