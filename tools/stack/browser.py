"""The Chromium that browser tests and `make diagrams` drive: BROWSER, else Debian's chromium, installed if missing."""
from __future__ import annotations

import os
import shutil
import subprocess

from tools.stack import debian
from tools.stack.errors import StackError

BROWSER = "BROWSER"  # the environment variable that points to a Chromium binary of one's choice
# Headless, and quiet: no sandbox (root in a container), no GPU, and nothing fetched or synced besides the page.
# Each launch also gets a fresh profile (Playwright makes one; render.py passes --user-data-dir).
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run")
MISSING = (f"the browser tests need Chromium: install Debian's package (apt-get install chromium) or set {BROWSER} "
           f"to a Chromium binary")


def chromium() -> str | None:
    """The Chromium to drive: the BROWSER setting when it is given, else `chromium` on the PATH; None without one."""
    return shutil.which(os.environ.get(BROWSER) or "chromium")


def _is_chromium(binary: str) -> bool:
    # BROWSER is also the variable Python's webbrowser module reads, and may name Firefox or xdg-open.
    try:
        version = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "Chromium" in version or "Chrome" in version


def ensure_chromium() -> str:
    """The Chromium to drive, installing Debian's `chromium` with apt when none is there and apt can be used."""
    configured = os.environ.get(BROWSER)
    if configured:
        binary = chromium()
        if binary is None or not _is_chromium(binary):
            raise StackError(f"{BROWSER}={configured} is not a Chromium binary: point {BROWSER} to one (or unset it "
                             f"to use Debian's chromium)")
        return binary
    if chromium() is None and debian.can_install():
        debian.install("chromium", "for the browser tests: none on the PATH")
    binary = chromium()
    if binary is None:
        raise StackError(MISSING)
    return binary
