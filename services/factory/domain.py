"""Production orders in plain Python: no HTTP, Kafka, Zeebe or SQL here."""
from __future__ import annotations

from enum import StrEnum


class ProductionStatus(StrEnum):
    REQUESTED = "REQUESTED"
    PRODUCED = "PRODUCED"
    WITHDRAWN = "WITHDRAWN"
