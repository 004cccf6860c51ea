"""Which Chromium the browser tests drive, and the one-line reason when there is none; starts no browser."""
import sys

import pytest

from tools.stack import browser
from tools.stack.errors import StackError


def test_a_browser_setting_that_names_no_chromium_stops_with_a_reason_naming_the_setting(monkeypatch):
    monkeypatch.setenv("BROWSER", sys.executable)  # runs, but answers --version with "Python 3.x"
    with pytest.raises(StackError, match=r"^BROWSER=.* is not a Chromium binary: point BROWSER to one"):
        browser.ensure_chromium()
    monkeypatch.setenv("BROWSER", "/nowhere/chromium")
    with pytest.raises(StackError, match="^BROWSER=/nowhere/chromium is not a Chromium binary"):
        browser.ensure_chromium()


def test_without_chromium_or_apt_the_reason_says_how_to_get_one(monkeypatch, tmp_path):
    monkeypatch.delenv("BROWSER", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # neither chromium nor apt-get on it
    assert browser.chromium() is None
    with pytest.raises(StackError, match=r"apt-get install chromium\) or set BROWSER to a Chromium binary$"):
        browser.ensure_chromium()
