"""Render bpmn/*.bpmn to docs/images/*.png with bpmn-js in headless Chromium (`make diagrams`)."""
from __future__ import annotations

import functools
import http.server
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--virtual-time-budget=5000"]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # the page's own requests are not news
        pass


def chromium(url: str, *args: str) -> str:
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run([shutil.which("chromium"), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, url],
                                capture_output=True, text=True, timeout=120)
    return result.stdout


def main() -> int:
    if not shutil.which("chromium"):
        print("error: needs Debian's chromium (apt-get install chromium)", file=sys.stderr)
        return 2
    handler = functools.partial(QuietHandler, directory=str(ROOT))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/docs/diagrams/render.html?file=/bpmn/"
    failed = False
    try:
        for model in sorted((ROOT / "bpmn").glob("*.bpmn")):
            title = re.search(r"<title>([^<]*)", chromium(base + model.name, "--dump-dom"))
            outcome = title.group(1) if title else "ERROR no page"
            target = ROOT / "docs" / "images" / f"{model.stem}.png"
            chromium(base + model.name, "--window-size=1500,900", f"--screenshot={target}")
            print(f"{model.name}: {outcome} -> {target.relative_to(ROOT)}")
            failed |= outcome != "OK"
    finally:
        server.shutdown()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
