"""The web application in a real browser (Debian's chromium through Playwright) against `rodan serve`.

Without chromium the tests are skipped, unless ``RODAN_REQUIRE_SERVICES=1``
(CI), where launching fails and so does the test. Screenshots of each main
page are written to ``<tmp>/rodan-app-screenshots/``.
"""

import os
import tempfile
from pathlib import Path

import pytest
from browser import CHROMIUM, CHROMIUM_ARGS

SCREENSHOTS = Path(tempfile.gettempdir()) / "rodan-app-screenshots"  # to look at after a run
AXE = Path(__file__).resolve().parents[2] / "frontend" / "node_modules" / "axe-core" / "axe.min.js"


class Session:
    """A browser context on the live server, with its script errors and requests recorded."""

    def __init__(self, browser, base):
        self.base = base
        self.context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
        self.errors = []
        self.requests = []
        self.context.on("weberror", lambda error: self.errors.append(str(error.error)))
        self.context.on("request", lambda request: self.requests.append((request.method, request.url)))
        self.page = self.context.new_page()
        self.page.on("console", self._console)

    def _console(self, message):
        # The browser logs every 4xx it receives; the tests provoke some on purpose (and assert the sentence).
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def shot(self, name, page=None, full_page=True):
        """Full page by default; not in the middle of a drag (resizing for it would move the pointer's target)."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (page or self.page).screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)

    def axe(self, page=None):
        """axe-core's WCAG A/AA violations on the page as it is now (rule id and the first offending element)."""
        page = page or self.page
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})")
        assert any(rule["id"] == "color-contrast" for rule in result["passes"]), "axe checked the page's contrast"
        return [(v["id"], v["nodes"][0]["target"], v["nodes"][0].get("failureSummary", "")[:200]) for v in result["violations"]]

    def sign_in(self, email, password):
        page = self.page
        page.goto(self.base + "/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Projects").wait_for()

    def foreign_requests(self):
        return [url for _, url in self.requests if not url.startswith(self.base + "/") and not url.startswith(("data:", "blob:", "about:"))]


@pytest.fixture
def session():
    """``session(base)`` opens a browser context on the live server.

    Chromium starts at the first call, not before: Playwright's event loop
    forbids the ORM in its thread, so tests make their users first. Skipped
    without chromium, unless CI requires it (then launching fails).
    """
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM) and os.environ.get("RODAN_REQUIRE_SERVICES") != "1":
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    state = {}

    def open_session(base):
        if "browser" not in state:
            state["playwright"] = sync_playwright().start()
            state["browser"] = state["playwright"].chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        state.setdefault("sessions", []).append(Session(state["browser"], base))
        return state["sessions"][-1]

    yield open_session
    for item in state.get("sessions", []):
        item.context.close()
    if "browser" in state:
        state["browser"].close()
        state["playwright"].stop()
