"""The engine's REST API (Camunda 8.6 `/v2`) for what the monitor changes: job retries, incident resolution,
instance cancellation, user task assignment and completion, restarting a stuck element."""
from __future__ import annotations

import httpx


class EngineRefused(Exception):
    """The engine answered with an error: its status and its reason (a Problem's `detail`)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class EngineUnreachable(Exception):
    """The engine did not answer."""


class Engine:
    def __init__(self, base_url: str, timeout_seconds: float = 10) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=timeout_seconds)

    def _send(self, method: str, path: str, body: dict | None) -> None:
        try:
            response = self.client.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise EngineUnreachable(f"the engine's REST API at {self.client.base_url} did not answer: {exc}") from exc
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail") or response.text
            except ValueError:
                detail = response.text or response.reason_phrase
            raise EngineRefused(response.status_code, detail)

    def set_job_retries(self, job_key: int, retries: int) -> None:
        self._send("PATCH", f"/v2/jobs/{job_key}", {"changeset": {"retries": retries}})

    def resolve_incident(self, incident_key: int) -> None:
        self._send("POST", f"/v2/incidents/{incident_key}/resolution", {})

    def cancel_instance(self, instance_key: int) -> None:
        self._send("POST", f"/v2/process-instances/{instance_key}/cancellation", {})

    def restart_element(self, instance_key: int, element_instance_key: int, element_id: str,
                        flow_scope_key: int | None) -> None:
        """Terminate an element instance and start the element again in the same scope (a new job for a task)."""
        activate: dict = {"elementId": element_id}
        if flow_scope_key is not None and flow_scope_key != instance_key:
            activate["ancestorElementInstanceKey"] = flow_scope_key
        self._send("POST", f"/v2/process-instances/{instance_key}/modification",
                   {"terminateInstructions": [{"elementInstanceKey": element_instance_key}],
                    "activateInstructions": [activate]})

    def migrate_instance(self, instance_key: int, target_definition_key: int, mapping: dict[str, str]) -> None:
        """Move a running instance to another definition; `mapping`: source element id to target element id."""
        self._send("POST", f"/v2/process-instances/{instance_key}/migration", {
            "targetProcessDefinitionKey": str(target_definition_key),
            "mappingInstructions": [{"sourceElementId": source, "targetElementId": target}
                                    for source, target in mapping.items()]})

    def complete_user_task(self, task_key: int, variables: dict) -> None:
        self._send("POST", f"/v2/user-tasks/{task_key}/completion", {"variables": variables})

    def assign_user_task(self, task_key: int, assignee: str) -> None:
        """Claim: refused (409) if someone else holds the task, as the override is not allowed."""
        self._send("POST", f"/v2/user-tasks/{task_key}/assignment", {"assignee": assignee, "allowOverride": False})

    def unassign_user_task(self, task_key: int) -> None:
        self._send("DELETE", f"/v2/user-tasks/{task_key}/assignee", None)

    def close(self) -> None:
        self.client.close()
