"""Render bpmn/*.bpmn to docs/images/*.png with bpmn-js in headless Chromium (`make diagrams`)."""
from __future__ import annotations

import functools
import http.server
import re
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from tools.stack.browser import CHROMIUM_FLAGS, ensure_chromium
from tools.stack.errors import StackError

ROOT = Path(__file__).resolve().parents[2]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # the page's own requests are not news
        pass


def run_chromium(binary: str, url: str, *args: str) -> str:
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run([binary, *CHROMIUM_FLAGS, "--virtual-time-budget=5000", f"--user-data-dir={profile}",
                                 *args, url], capture_output=True, text=True, timeout=120)
    return result.stdout


def main() -> int:
    try:
        binary = ensure_chromium()
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    handler = functools.partial(QuietHandler, directory=str(ROOT))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/docs/diagrams/render.html?file=/bpmn/"
    failed = False
    try:
        for model in sorted((ROOT / "bpmn").glob("*.bpmn")):
            title = re.search(r"<title>([^<]*)", run_chromium(binary, base + model.name, "--dump-dom"))
            outcome = title.group(1) if title else "ERROR no page"
            target = ROOT / "docs" / "images" / f"{model.stem}.png"
            run_chromium(binary, base + model.name, "--window-size=1500,900", f"--screenshot={target}")
            print(f"{model.name}: {outcome} -> {target.relative_to(ROOT)}")
            failed |= outcome != "OK"
    finally:
        server.shutdown()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
