"""Debian packages the launcher installs when they are missing: with apt, as root, or not at all."""
from __future__ import annotations

import os
import shutil
import subprocess

from tools.stack.processes import step


def can_install() -> bool:
    """Whether apt-get can install a package here: root (CI, a container) on Debian."""
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


def install(package: str, why: str, recommended: bool = True) -> None:
    """`apt-get install` the package (and what it recommends, unless told not to) after refreshing the lists; what
    apt says is shown, and whether it worked is for the caller to find out (the binary is on the PATH or not)."""
    step(f"installing Debian's {package} {why} (apt-get)")
    apt = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], env=apt, check=False)
    leave_out = [] if recommended else ["--no-install-recommends"]
    subprocess.run(["apt-get", "install", "-y", "-qq", *leave_out, package], env=apt, check=False)
