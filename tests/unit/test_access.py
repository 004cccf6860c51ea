"""Who may call what: every route of every service names its roles, and the table below is what they name."""
import dataclasses
import importlib
import json
import re

import pytest
from fastapi import APIRouter

from shared.contracts.registry import SERVICES
from shared.contracts.roles import CUSTOMER, OPERATOR, SERVICE
from shared.runtime.service import PAGE_LOGIN, create_app

# (service, method, path) -> the roles allowed; a route not listed here is open to anyone.
ACCESS = {
    ("order", "post", "/orders"): {CUSTOMER},
    ("order", "get", "/orders"): {CUSTOMER, OPERATOR},
    ("order", "get", "/orders/{order_id}"): {CUSTOMER, OPERATOR},
    ("order", "post", "/orders/{order_id}/cancel"): {CUSTOMER, OPERATOR},
    ("order", "post", "/orders/{order_id}/abort"): {OPERATOR},
    ("order", "get", "/orders/{order_id}/shipping-address"): {SERVICE},
    ("order", "get", "/catalog/{sku}"): {CUSTOMER, OPERATOR},
    ("order", "get", "/stuck-orders"): {OPERATOR},
    ("order", "delete", "/customers/{customer_id}/personal-data"): {OPERATOR},
    ("warehouse", "get", "/stock"): {OPERATOR},
    ("warehouse", "get", "/stock/{sku}"): {OPERATOR},
    ("warehouse", "put", "/stock/{sku}"): {OPERATOR},
    ("warehouse", "post", "/stock/{sku}/adjustments"): {OPERATOR},
    ("factory", "get", "/production-orders"): {OPERATOR},
    ("factory", "get", "/production-line"): {OPERATOR},
    ("factory", "put", "/production-line"): {OPERATOR},
    ("delivery", "get", "/deliveries"): {OPERATOR},
    ("delivery", "get", "/deliveries/{delivery_id}"): {OPERATOR},
    ("analytics", "get", "/figures"): {OPERATOR},
    ("analytics", "get", "/figures/metrics"): {OPERATOR},
    ("monitor", "get", "/definitions"): {OPERATOR},
    ("monitor", "get", "/definitions/{key}/xml"): {OPERATOR},
    ("monitor", "get", "/definitions/{key}/statistics"): {OPERATOR},
    ("monitor", "get", "/instances"): {OPERATOR, SERVICE},
    ("monitor", "get", "/instances/{key}"): {OPERATOR, SERVICE},
    ("monitor", "post", "/instances/{key}/cancellation"): {OPERATOR},
    ("monitor", "get", "/stalled-instances"): {OPERATOR},
    ("monitor", "get", "/incidents"): {OPERATOR},
    ("monitor", "post", "/incidents/{key}/retry"): {OPERATOR},
    ("monitor", "get", "/user-tasks"): {OPERATOR},
    ("monitor", "get", "/user-tasks/{key}"): {OPERATOR},
    ("monitor", "post", "/user-tasks/{key}/completion"): {OPERATOR},
    ("monitor", "post", "/user-tasks/{key}/assignment"): {OPERATOR},
    ("monitor", "delete", "/user-tasks/{key}/assignment"): {OPERATOR},
    ("monitor", "post", "/migrations"): {OPERATOR},
    ("order", "post", "/order-operations"): {OPERATOR},
    ("order", "get", "/order-operations"): {OPERATOR},
    ("order", "get", "/order-operations/{operation_id}"): {OPERATOR},
    ("monitor", "post", "/operations/incident-retries"): {OPERATOR},
    ("monitor", "get", "/operations"): {OPERATOR},
    ("monitor", "get", "/operations/{operation_id}"): {OPERATOR},
    ("monitor", "get", "/audit"): {OPERATOR},
}
# Open: liveness, readiness and metrics on every service, and the pages a browser loads before it has a token.
OPEN = {"/health", "/ready", "/metrics", "/", "/login-config"}


def service_of(name: str):
    return importlib.import_module(f"services.{name}.app").service


def operations(name: str):
    document = create_app(service_of(name)).openapi()
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation, document


@pytest.mark.parametrize("name", SERVICES)
def test_each_operation_allows_exactly_the_roles_of_the_table_and_only_open_ones_need_no_token(name):
    for path, method, operation, _ in operations(name):
        wanted = ACCESS.get((name, method, path))
        if wanted is None:
            assert path in OPEN, f"{method} {path} of {name} is open to anyone"
            assert "security" not in operation
        else:
            assert set(operation["x-roles"]) == wanted
            assert operation["security"] == [{"bearer": []}, {"login": []}]
            assert {"401", "403"} <= operation["responses"].keys()


@pytest.mark.parametrize("name", SERVICES)
def test_the_openapi_document_offers_a_bearer_token_and_a_login_with_pkce_through_the_public_client(name):
    _, _, _, document = next(operations(name))
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"] == {"type": "http", "scheme": "bearer", "description": schemes["bearer"]["description"]}
    flow = schemes["login"]["flows"]["authorizationCode"]
    settings = service_of(name).settings
    assert flow["authorizationUrl"] == f"{settings.auth_issuer}/protocol/openid-connect/auth"
    assert flow["tokenUrl"] == f"{settings.auth_issuer}/protocol/openid-connect/token"
    oauth = create_app(service_of(name)).swagger_ui_init_oauth
    assert oauth == {"clientId": settings.auth_public_client, "usePkceWithAuthorizationCodeGrant": True}


def test_a_route_that_does_not_say_who_may_call_it_stops_the_service_from_starting():
    forgetful = APIRouter()

    @forgetful.get("/secrets")
    def secrets() -> dict:
        return {}

    with pytest.raises(ValueError, match="/secrets says nowhere who may call it"):
        create_app(dataclasses.replace(service_of("factory"), api=forgetful))


@pytest.mark.parametrize("name", [name for name in SERVICES if service_of(name).web is not None])
def test_a_service_with_pages_ships_the_login_library_its_pages_import(name):
    package = json.loads((service_of(name).web / "package.json").read_text())
    imported = re.search(r'from "\./web/node_modules/([^/]+)/', PAGE_LOGIN.read_text())[1]
    assert imported in package["dependencies"]
