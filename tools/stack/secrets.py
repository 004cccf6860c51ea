"""Secrets the stack generates at its first start into the git-ignored state folder, one JSON file per component
(readable by its owner only), and the same ever after: Keycloak's client secrets and passwords, PostgreSQL's."""
from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from pathlib import Path

from tools.stack.errors import StackError


def generated(path: Path, names: Iterable[str]) -> dict[str, str]:
    """Every secret in `names` (and any kept before), generating the ones the file does not hold yet."""
    known = json.loads(path.read_text()) if path.is_file() else {}
    missing = set(names) - known.keys()
    if missing:
        known |= {name: secrets.token_urlsafe(24) for name in missing}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(json.dumps(known, indent=2, sort_keys=True) + "\n")
    return known


def stored(path: Path, name: str, what: str) -> str:
    """One secret generated before; a clear error if the stack never started (or not since `name` was added)."""
    try:
        return json.loads(path.read_text())[name]
    except FileNotFoundError:
        raise StackError(f"no {path}: the stack generates the {what}'s secret at its first start "
                         "(`make up`)") from None
    except KeyError:
        raise StackError(f"{path} has no secret for the {what}; the next start of the stack adds it "
                         "(`make up`)") from None
