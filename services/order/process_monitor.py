"""What the process monitor knows about an order's process instances, for the reconciler's diagnosis."""
from __future__ import annotations

import httpx

from services.order.reconciler import EngineInstance
from shared.runtime.auth import TokenUnavailable


class ProcessMonitor:
    """The monitor's API; None when it does not answer (the reconciler says so and goes on)."""

    def __init__(self, base_url: str, auth: httpx.Auth, timeout_seconds: float = 3) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=timeout_seconds, auth=auth)

    def __enter__(self) -> ProcessMonitor:
        return self

    def __exit__(self, *exc) -> None:
        self.client.close()

    def instances_of(self, order_id: str) -> list[EngineInstance] | None:
        try:
            page = self._get("/instances", params={"order_id": order_id, "limit": 20})
            found = []
            for instance in page["items"]:
                detail = self._get(f"/instances/{instance['key']}") if instance["state"] == "ACTIVE" else {}
                found.append(EngineInstance(
                    process=instance["bpmn_process_id"], state=instance["state"],
                    waiting_at=tuple(detail.get("active_elements", ())),
                    incidents=tuple(f"{i['element_id']}: {i['message']}" for i in detail.get("incidents", ())
                                    if i["state"] == "ACTIVE")))
            return found
        except (httpx.HTTPError, TokenUnavailable, KeyError, ValueError):
            return None

    def _get(self, path: str, **kwargs) -> dict:
        response = self.client.get(path, **kwargs)
        response.raise_for_status()
        return response.json()
