"""One readable line from a pydantic ValidationError, for incidents and dead letters."""
from __future__ import annotations

from pydantic import ValidationError


def summarise(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'payload'}: {e['msg']}" for e in exc.errors())
