"""Open incidents and user tasks from the process monitor's API, and the commands that resolve them.

`make incidents`, `make tasks` and `fulfil incident|task ...` use these; the monitor itself retries
through the engine's REST API, so an operator needs no engine address. Calls are made as the realm's demo operator,
or as the demo user `user` names (the user tasks: a reviewer claims and completes review tasks as themselves).
"""
from __future__ import annotations

import httpx

from shared.runtime import problems
from shared.runtime.auth import TokenUnavailable
from tools.stack import keycloak
from tools.stack.config import StackSettings
from tools.stack.errors import StackError


class MonitorError(RuntimeError):
    """Printed as one line, with a non-zero exit."""


_logins: dict[tuple[str, str], keycloak.OAuthToken] = {}


def _login(settings: StackSettings, user: str) -> keycloak.OAuthToken:
    """One login per command and user, however many calls it makes: the token renews itself as it goes."""
    if (settings.auth_issuer, user) not in _logins:
        _logins[settings.auth_issuer, user] = keycloak.login(settings, user)
    return _logins[settings.auth_issuer, user]


def _request(settings: StackSettings, method: str, path: str, user: str = keycloak.OPERATOR_USER, **kwargs) -> dict:
    """One call to the monitor's API as a demo user of the realm (the operator unless `user` says otherwise)."""
    return _response(settings, method, path, user, **kwargs).json()


def _response(settings: StackSettings, method: str, path: str, user: str = keycloak.OPERATOR_USER,
              **kwargs) -> httpx.Response:
    base = f"http://127.0.0.1:{settings.monitor_port}"
    try:
        response = httpx.request(method, base + path, timeout=30, auth=_login(settings, user), **kwargs)
    except (StackError, TokenUnavailable) as exc:
        raise MonitorError(f"no token: {exc}; is the stack up? (`fulfil stack up`)") from exc
    except httpx.HTTPError as exc:
        raise MonitorError(f"the process monitor at {base} is not answering ({exc}); is the stack up?") from exc
    if response.status_code >= 400:
        raise MonitorError(problems.summary(response))
    return response


def definitions(settings: StackSettings) -> list[dict]:
    """Every deployed process version with its running instances and open incidents."""
    return _request(settings, "GET", "/definitions")


def definition_xml(settings: StackSettings, key: int) -> str:
    return _response(settings, "GET", f"/definitions/{key}/xml").text


def print_incidents(settings: StackSettings) -> int:
    """Open incidents, as Operate would list them, with the command that retries each once its cause is fixed."""
    page = _request(settings, "GET", "/incidents", params={"limit": 500})
    for incident in page["items"]:
        print(f"incident {incident['key']}  instance {incident['instance_key']}  at {incident['element_id']}"
              f"  ({incident['error_type']})  order {incident['order_id'] or '-'}\n  {incident['message']}\n"
              f"  after fixing the cause: fulfil incident retry {incident['key']}"
              f"   (or curl -X POST -H \"Authorization: Bearer $(fulfil token)\""
              f" localhost:{settings.monitor_port}/incidents/{incident['key']}/retry)")
    shown = len(page["items"])
    more = f" (the first {shown} shown)" if page["total"] > shown else ""
    print(f"{page['total']} open incident(s){more}; http://127.0.0.1:{settings.monitor_port}/#/incidents")
    return 0


def print_user_tasks(settings: StackSettings, user: str = keycloak.OPERATOR_USER) -> int:
    """Open user tasks `user` may see, as Tasklist would list them: who may do each, who claimed it, when it is due,
    and the commands that claim and complete it."""
    page = _request(settings, "GET", "/user-tasks", user, params={"limit": 500})
    acting = "" if user == keycloak.OPERATOR_USER else f"--as {user} "
    for task in page["items"]:
        who = [*(f"group {g}" for g in task["candidate_groups"]), *(f"user {u}" for u in task["candidate_users"])]
        claimed = f"claimed by {task['assignee']}" if task["assignee"] else "not claimed"
        print(f"user task {task['key']}  {task['element_id']}  instance {task['instance_key']}"
              f"  order {task['order_id'] or '-'}  for {', '.join(who) or 'operators'}  {claimed}"
              f"  due {task['due_date'] or '-'}")
        form = task["form"]
        if form:
            choices = " | ".join(f"{c['value']} ({c['label']})" for c in form["choices"])
            note = " [--note TEXT]" if form.get("texts") else ""
            if not task["assignee"]:
                print(f"  fulfil {acting}task claim {task['key']}")
            print(f"  fulfil {acting}task complete {task['key']} CHOICE{note}   # {form['variable']}: {choices}")
    shown = len(page["items"])
    more = f" (the first {shown} shown)" if page["total"] > shown else ""
    print(f"{page['total']} open user task(s){more}; http://127.0.0.1:{settings.monitor_port}/#/tasks")
    return 0


def retry_incidents(settings: StackSettings, body: dict) -> dict:
    """One operation retrying every open incident that matches (`POST /operations/incident-retries`)."""
    return _request(settings, "POST", "/operations/incident-retries", json=body)


def operation(settings: StackSettings, operation_id: str) -> dict:
    return _request(settings, "GET", f"/operations/{operation_id}")


def retry_incident(settings: StackSettings, key: int, retries: int = 1) -> str:
    return _request(settings, "POST", f"/incidents/{key}/retry", params={"retries": retries})["detail"]


def complete_user_task(settings: StackSettings, key: int, choice: str, note: str | None = None,
                       user: str = keycloak.OPERATOR_USER) -> str:
    """Complete a task with its form's choice and, if given, a note in the form's text field."""
    form = _request(settings, "GET", f"/user-tasks/{key}", user)["form"]
    if form is None:
        raise MonitorError(f"the form of user task {key} is not known to the monitor yet")
    variables = {form["variable"]: choice}
    if note is not None:
        texts = form.get("texts") or []
        if len(texts) != 1:
            raise MonitorError(f"the form {form['form_id']} of user task {key} has {len(texts)} text fields, so "
                               "--note cannot say which to fill in; complete it without --note")
        variables[texts[0]["variable"]] = note
    return _request(settings, "POST", f"/user-tasks/{key}/completion", user, json={"variables": variables})["detail"]


def claim_user_task(settings: StackSettings, key: int, user: str = keycloak.OPERATOR_USER) -> str:
    return _request(settings, "POST", f"/user-tasks/{key}/assignment", user)["detail"]


def release_user_task(settings: StackSettings, key: int, user: str = keycloak.OPERATOR_USER) -> str:
    return _request(settings, "DELETE", f"/user-tasks/{key}/assignment", user)["detail"]


def migrate_batch(settings: StackSettings, body: dict) -> dict:
    """One batch of running instances moved (or checked, dry) by the monitor: `POST /migrations`."""
    return _request(settings, "POST", "/migrations", json=body)
