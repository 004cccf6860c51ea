"""Who may call what, on the running stack: tokens from the real Keycloak, every service's every operation."""
from __future__ import annotations

import subprocess
import sys
import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.contracts.registry import SERVICES
from shared.contracts.roles import CUSTOMER, OPERATOR, SERVICE
from tests.conftest import new_order_request
from tests.e2e.conftest import place
from tools.stack import keycloak

ALICE, BOB = keycloak.CUSTOMER_USERS


def secured_operations(stack) -> list[tuple[str, str, str, set[str]]]:
    """(service, method, path with its parameters filled in, roles allowed) of every operation needing a token."""
    found = []
    for service in SERVICES:
        document = httpx.get(f"http://127.0.0.1:{stack.service_port(service)}/openapi.json", timeout=10).json()
        for path, methods in document["paths"].items():
            for method, operation in methods.items():
                if "x-roles" in operation:
                    found.append((service, method, path.replace("{", "").replace("}", ""), set(operation["x-roles"])))
    return found


def login_with_role(login, role: str):
    return {CUSTOMER: lambda: login(ALICE), OPERATOR: login, SERVICE: login.service}[role]()


def call(stack, service: str, method: str, path: str, **kwargs) -> httpx.Response:
    return httpx.request(method, f"http://127.0.0.1:{stack.service_port(service)}{path}", timeout=10, **kwargs)


def test_every_operation_but_health_readiness_metrics_and_pages_needs_a_token(stack):
    operations = secured_operations(stack)
    assert {(s, m) for s, m, _, _ in operations} >= {("order", "post"), ("warehouse", "put"), ("factory", "put")}
    for service, method, path, _ in operations:
        answer = call(stack, service, method, path, json={})
        assert answer.status_code == 401, (service, method, path, answer.text)
        assert answer.json()["detail"].startswith("missing bearer token")
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    for service in SERVICES:
        for open_path in ("/health", "/ready", "/metrics"):
            assert call(stack, service, "get", open_path).status_code == 200, (service, open_path)
    for page in ("analytics", "monitor"):
        assert call(stack, page, "get", "/").status_code == 200


def test_every_operation_refuses_a_token_without_one_of_its_roles_with_403(stack, login):
    for service, method, path, roles in secured_operations(stack):
        for role in {CUSTOMER, OPERATOR, SERVICE} - roles:
            answer = call(stack, service, method, path, json={}, auth=login_with_role(login, role))
            assert answer.status_code == 403, (service, method, path, role, answer.text)
            assert f"needs the role {' or '.join(sorted(roles))}" in answer.json()["detail"]


def forged(stack, **claims) -> str:
    """A token with the right claims, signed by a key the realm never had (under a key id it does have)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = jwt.get_unverified_header(keycloak.login(stack, ALICE).access_token())["kid"]
    now = int(time.time())
    body = {"iss": stack.auth_issuer, "aud": "fulfilment-api", "sub": "someone", "iat": now, "exp": now + 300,
            "realm_access": {"roles": [OPERATOR]}, **claims}
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": kid})


def test_a_forged_expired_or_malformed_token_gets_401_with_the_reason(stack, login):
    genuine = jwt.decode(login().access_token(), options={"verify_signature": False})
    unsigned = jwt.encode({**genuine}, key=None, algorithm="none")
    for token, reason in ((forged(stack), "Signature verification failed"),
                          (unsigned, "invalid bearer token"),
                          ("not.a.token", "invalid bearer token")):
        answer = call(stack, "factory", "get", "/production-line", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401, answer.text
        assert reason in answer.json()["detail"]
        assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]


def test_a_customer_sees_and_cancels_only_their_own_orders_and_an_operator_any(stack, login, order_api):
    alices = place(order_api)  # order_api is Alice's
    as_bob = {"auth": login(BOB)}
    assert order_api.get(f"/orders/{alices}").json()["customer_id"] == jwt.decode(
        login(ALICE).access_token(), options={"verify_signature": False})["sub"]
    assert call(stack, "order", "get", f"/orders/{alices}", **as_bob).status_code == 404
    assert alices not in [o["id"] for o in call(stack, "order", "get", "/orders?limit=500", **as_bob).json()]
    assert alices in [o["id"] for o in order_api.get("/orders", params={"limit": 500}).json()]
    refused = call(stack, "order", "post", f"/orders/{alices}/cancel", **as_bob)
    assert refused.status_code == 404 and refused.json()["detail"] == f"no order with id {alices}"
    assert order_api.get(f"/orders/{alices}").json()["cancellation"] is None
    assert call(stack, "order", "get", f"/orders/{alices}", auth=login()).status_code == 200
    assert alices in [o["id"] for o in call(stack, "order", "get", "/orders?limit=500", auth=login()).json()]


def test_a_customer_places_orders_only_for_themselves(stack, login, order_api):
    bob = jwt.decode(login(BOB).access_token(), options={"verify_signature": False})["sub"]
    answer = order_api.post("/orders", json=new_order_request(customer_id=bob))
    assert answer.status_code == 403 and "only for themselves" in answer.json()["detail"]
    alice = jwt.decode(login(ALICE).access_token(), options={"verify_signature": False})["sub"]
    answer = order_api.post("/orders", json=new_order_request(customer_id=alice))
    assert answer.status_code == 201 and answer.json()["customer_id"] == alice


@pytest.mark.parametrize("who", [ALICE, keycloak.OPERATOR_USER])
def test_no_customer_and_no_operator_reads_a_shipping_address_only_a_service_does(stack, login, order_api, who):
    order_id = place(order_api)
    refused = call(stack, "order", "get", f"/orders/{order_id}/shipping-address", auth=login(who))
    assert refused.status_code == 403 and refused.json()["detail"].startswith("this needs the role service")
    read = call(stack, "order", "get", f"/orders/{order_id}/shipping-address", auth=login.service())
    assert read.status_code == 200 and read.json()["street"] == new_order_request()["shipping_address"]["street"]


def test_fulfil_token_prints_a_token_that_curl_can_use_as_the_readme_shows(stack):
    printed = subprocess.run([sys.executable, "-m", "tools.cli", "token"], capture_output=True, text=True, timeout=60)
    assert printed.returncode == 0, printed.stderr
    answer = call(stack, "factory", "get", "/production-line",
                  headers={"Authorization": f"Bearer {printed.stdout.strip()}"})
    assert answer.status_code == 200 and "running" in answer.json()
    customer = subprocess.run([sys.executable, "-m", "tools.cli", "token", "--as", BOB], capture_output=True,
                              text=True, timeout=60)
    claims = jwt.decode(customer.stdout.strip(), options={"verify_signature": False})
    assert claims["realm_access"]["roles"] == [CUSTOMER] and claims["aud"] == "fulfilment-api"
    assert not {"name", "email", "given_name", "family_name"} & claims.keys()  # ids only, nothing personal


def test_a_body_over_the_limit_gets_413_and_a_page_over_the_cap_422(stack, order_api):
    huge = new_order_request(items=[{"sku": "KB-101", "quantity": 1}], note="x" * 70_000)
    refused = order_api.post("/orders", json=huge)
    assert refused.status_code == 413 and "larger than 65536 bytes" in refused.json()["detail"]
    assert order_api.get("/orders", params={"limit": 501}).status_code == 422


def test_a_burst_from_one_subject_gets_429_with_retry_after_and_other_callers_are_not_slowed(stack, order_api):
    from concurrent.futures import ThreadPoolExecutor

    bursting = keycloak.login(stack, BOB)  # no test but this one sends many requests as Bob
    with httpx.Client(base_url=f"http://127.0.0.1:{stack.order_port}", timeout=10, auth=bursting) as client:
        # The subject's allowance is taken as soon as the token is checked, before the role is: an operator's route
        # refuses a customer (403) at next to no cost, so the burst outruns the allowance however busy the machine is.
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: client.get("/stuck-orders"), range(1000)))
        statuses = {a.status_code for a in answers}
        assert statuses == {403, 429}, statuses
        refused = next(a for a in answers if a.status_code == 429)
        wait = int(refused.headers["Retry-After"])
        assert 1 <= wait <= 2 and "too many requests by this token's subject" in refused.json()["detail"]
        # Another subject is served, from the same address (whose allowance is well above one subject's).
        assert order_api.get("/orders", params={"limit": 1}).status_code == 200
        time.sleep(wait)
        assert client.get("/stuck-orders").status_code == 403
