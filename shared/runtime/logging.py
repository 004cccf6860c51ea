"""One log format for every process, so interleaved logs from `make run` stay readable."""
from __future__ import annotations

import logging


def configure(service: str, level: int = logging.INFO) -> None:
    logging.basicConfig(
        level=level,
        format=f"%(asctime)s {service:<9} %(levelname)-7s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "uvicorn.access", "pyzeebe"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
