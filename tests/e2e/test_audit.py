"""Who did what: an operator's actions name them (their token's subject) on the order's timeline and in the
monitor's audit, and a token that names nobody may read but not act."""
from __future__ import annotations

import jwt
import pytest

from shared.contracts.roles import OPERATOR
from shared.runtime.auth import client_credentials
from tests.conftest import eventually, new_order_request
from tests.e2e.conftest import wait_for_status
from tests.e2e.test_incidents import process_of
from tools.stack import keycloak

NAMELESS_CLIENT = "e2e-no-subject"


@pytest.fixture(scope="module")
def nameless(stack):
    """An httpx auth with an operator's token that has no `sub`: a client of the realm without the `basic` scope
    (which carries the subject), made through the admin API for this test."""
    realm = stack.auth_issuer.rsplit("/realms/", 1)[1]
    with keycloak.admin_client(stack, realm) as admin:
        if not admin.get("/clients", params={"clientId": NAMELESS_CLIENT}).json():
            created = admin.post("/clients", json={
                "clientId": NAMELESS_CLIENT, "publicClient": False, "standardFlowEnabled": False,
                "directAccessGrantsEnabled": False, "serviceAccountsEnabled": True, "fullScopeAllowed": True,
                "defaultClientScopes": ["roles"], "optionalClientScopes": [],
                "protocolMappers": [{"name": "fulfilment-api audience", "protocol": "openid-connect",
                                     "protocolMapper": "oidc-audience-mapper",
                                     "config": {"included.custom.audience": "fulfilment-api",
                                                "access.token.claim": "true", "id.token.claim": "false"}}]})
            assert created.status_code == 201, created.text
        (client,) = admin.get("/clients", params={"clientId": NAMELESS_CLIENT}).json()
        for scope in admin.get(f"/clients/{client['id']}/default-client-scopes").json():
            if scope["name"] == "basic":
                admin.delete(f"/clients/{client['id']}/default-client-scopes/{scope['id']}")
        account = admin.get(f"/clients/{client['id']}/service-account-user").json()
        role = admin.get(f"/roles/{OPERATOR}").json()
        admin.post(f"/users/{account['id']}/role-mappings/realm", json=[role])
        secret = admin.get(f"/clients/{client['id']}/client-secret").json()["value"]
    auth = client_credentials(stack.auth_issuer + "/protocol/openid-connect/token", NAMELESS_CLIENT, secret)
    claims = jwt.decode(auth.access_token(), options={"verify_signature": False})
    assert "sub" not in claims and OPERATOR in claims["realm_access"]["roles"], claims
    return auth


def subject_of(auth) -> str:
    return jwt.decode(auth.access_token(), options={"verify_signature": False})["sub"]


def test_a_token_without_a_subject_reads_but_every_action_is_refused_with_a_problem(
        nameless, order_api, monitor_api, warehouse_api):
    assert monitor_api.get("/incidents", auth=nameless).status_code == 200
    order_id = order_api.post("/orders", json=new_order_request()).json()["id"]
    for client, method, path, body in [
            (monitor_api, "POST", "/incidents/1/retry", None),
            (monitor_api, "POST", "/operations/incident-retries", {"job_type": "warehouse.reserve-stock"}),
            (order_api, "POST", f"/orders/{order_id}/abort", {"reason": "nobody asked"}),
            (order_api, "POST", f"/orders/{order_id}/cancel", None),
            (order_api, "POST", "/order-operations", {"action": "cancel", "order_ids": [order_id]}),
            (warehouse_api, "POST", "/stock/KB-101/adjustments", {"quantity": 1, "reason": "found one"})]:
        refused = client.request(method, path, json=body, auth=nameless)
        assert refused.status_code == 403, (path, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
        assert "names nobody" in refused.json()["detail"]


def test_an_operators_retry_and_abort_name_them_in_the_monitors_audit_and_on_the_orders_timeline(
        order_api, monitor_api, engine_records, login, sku_the_warehouse_lacks):
    operator = subject_of(login())
    order_id = order_api.post("/orders", json=new_order_request(items=[
        {"sku": sku_the_warehouse_lacks(), "quantity": 1}])).json()["id"]
    [incident] = eventually(lambda: engine_records.open_incidents(process_of(engine_records, order_id)),
                            what="an incident")
    eventually(lambda: any(i["key"] == incident.key
                           for i in monitor_api.get("/incidents", params={"limit": 500}).json()["items"]),
               what="the monitor to know the incident")
    assert monitor_api.post(f"/incidents/{incident.key}/retry").status_code == 202
    abort = order_api.post(f"/orders/{order_id}/abort", json={"reason": "no such item"}, auth=login())
    assert abort.status_code == 202, abort.text

    audit = monitor_api.get("/audit", params={"order_id": order_id}).json()["items"]
    assert [(e["actor"], e["action"], e["target"]) for e in audit] == [
        (operator, "retry incident", f"incident {incident.key}")]
    assert audit[0]["result"].startswith("ok: ")
    assert monitor_api.get("/audit", params={"actor": operator}).json()["total"] >= 1
    order = wait_for_status(order_api, order_id, "CANCELLED")
    assert f"abort requested by {operator}: no such item" in [e["what"] for e in order["timeline"]]


def test_a_customers_cancellation_names_the_customer(order_api, login):
    order_id = order_api.post("/orders", json=new_order_request()).json()["id"]
    assert order_api.post(f"/orders/{order_id}/cancel").status_code in (200, 202)
    customer = order_api.get(f"/orders/{order_id}").json()["customer_id"]
    timeline = order_api.get(f"/orders/{order_id}").json()["timeline"]
    assert f"cancellation requested by {customer}" in [e["what"] for e in timeline]
