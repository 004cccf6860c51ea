"""Browser tests: Playwright drives Debian's Chromium (or the one BROWSER names) against the running stack.

For any service's page: `service_url("analytics")` is its address in this stack, `page` a fresh tab that fails the
test on a script error, `screenshot(page, name)` keeps a picture of it.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tools.stack import keycloak
from tools.stack.browser import CHROMIUM_FLAGS, MISSING, chromium
from tools.stack.config import REPO_ROOT

# Where `screenshot` writes: `make screenshots` sets it to docs/images; otherwise the git-ignored stack folder.
SCREENSHOT_DIR = "FULFIL_SCREENSHOT_DIR"


@pytest.fixture(scope="package")
def browser() -> Browser:
    """One headless Chromium for the browser tests (`make test` installs it); Playwright gives it a fresh profile.

    Package-scoped: Playwright's sync API keeps an event loop running in this thread while it is open, and
    the tests that run after these call asyncio.run()."""
    binary = chromium()
    if binary is None:
        pytest.fail(MISSING)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=binary, args=list(CHROMIUM_FLAGS))
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A tab of its own (no cookies or storage from another test), in English and UTC, the same on every machine.

    A script error or a failed request on the page fails the test that opened it, unless the test expects it:
    a problem that contains one of the texts the test puts in `tab.expected_problems` is not reported.
    """
    context = browser.new_context(locale="en-US", timezone_id="UTC", viewport={"width": 1400, "height": 1100})
    tab = context.new_page()
    problems: list[str] = []
    tab.expected_problems = []
    tab.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    tab.on("console", lambda message: message.type == "error" and problems.append(
        f"console: {message.text} ({message.location.get('url')})"))
    tab.on("requestfailed", lambda request: problems.append(f"request failed: {request.url} {request.failure}"))
    yield tab
    # Not what closing cuts off (a refresh under way).
    reported = [p for p in problems if not any(expected in p for expected in tab.expected_problems)]
    context.close()
    if reported:
        pytest.fail("the page reported problems:\n" + "\n".join(reported))


@pytest.fixture(scope="session")
def service_url(stack):
    """The address of a service's page (first replica) in the running stack: `service_url("analytics", "/")`."""
    def url(service: str, path: str = "/") -> str:
        return f"http://127.0.0.1:{stack.service_port(service)}{path}"
    return url


@pytest.fixture(scope="session")
def log_in(stack):
    """`log_in(page, url)`: open a service's page, which sends the browser to the realm's login form, and log in
    there as a demo user (the operator unless `user` says otherwise); back on the page, it has its token."""
    def through_the_form(tab: Page, url: str, user: str = keycloak.OPERATOR_USER) -> None:
        tab.goto(url)
        tab.wait_for_selector("#kc-login")
        tab.fill("#username", user)
        tab.fill("#password", keycloak.user_password(stack, user))
        tab.click("#kc-login")
        tab.wait_for_url(f"{url}*")
    return through_the_form


@pytest.fixture(scope="session")
def screenshot(stack):
    """`screenshot(page, name)` writes <name>.png of the whole page and returns its path."""
    folder = Path(os.environ.get(SCREENSHOT_DIR) or stack.state_dir / "screenshots")
    folder = folder if folder.is_absolute() else REPO_ROOT / folder

    def take(tab: Page, name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        tab.screenshot(path=str(path), full_page=True)
        return path
    return take
