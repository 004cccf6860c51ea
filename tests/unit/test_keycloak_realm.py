"""The realm template Keycloak imports: the roles, groups and clients the services expect, and no secret in the file."""
import json
import re
import stat

from shared.contracts.roles import FULFILMENT_REVIEWERS, FULFILMENT_TEAM, TASK_GROUPS
from shared.runtime.auth import service_client_id
from tools.stack import keycloak
from tools.stack.config import KEYCLOAK_REALM, REPO_ROOT, StackSettings

REALM = json.loads(keycloak.REALM_TEMPLATE.read_text())
CLIENTS = {client["clientId"]: client for client in REALM["clients"]}
USERS = {user["username"]: user for user in REALM["users"]}


def test_the_realm_is_the_one_the_launcher_names_the_issuer_after():
    assert REALM["realm"] == KEYCLOAK_REALM
    assert StackSettings().auth_issuer.endswith(f"/realms/{KEYCLOAK_REALM}")


def test_the_realm_has_the_three_roles_and_users_of_each_human_role():
    assert {role["name"] for role in REALM["roles"]["realm"]} == {"customer", "operator", "service"}
    humans = [user for user in USERS.values() if "serviceAccountClientId" not in user]
    assert sum("customer" in user["realmRoles"] for user in humans) >= 2  # one customer's order is not another's
    assert any("operator" in user["realmRoles"] for user in humans)


def test_only_the_accounts_of_services_that_call_another_have_the_service_role():
    holders = {name for name, user in USERS.items() if "service" in user["realmRoles"]}
    clients = [service_client_id(service) for service in keycloak.CALLING_SERVICES]
    assert holders == {f"service-account-{client}" for client in clients}
    for client in clients:
        assert USERS[f"service-account-{client}"]["serviceAccountClientId"] == client
        assert CLIENTS[client]["serviceAccountsEnabled"] is True
        assert CLIENTS[client]["publicClient"] is False


def test_every_password_and_client_secret_is_a_placeholder_for_a_generated_value():
    for name, user in USERS.items():
        for credential in user.get("credentials", []):
            assert credential["value"] == f"${{{keycloak.password_variable(name)}}}"
    for client_id, client in CLIENTS.items():
        if not client["publicClient"]:
            assert client["secret"] == f"${{{keycloak.secret_variable(client_id)}}}"
        else:
            assert "secret" not in client


def test_every_token_names_the_suites_apis_as_its_audience_and_carries_nothing_personal():
    for client in CLIENTS.values():
        (audience,) = [m for m in client["protocolMappers"] if m["protocolMapper"] == "oidc-audience-mapper"]
        assert audience["config"]["included.custom.audience"] == "fulfilment-api"
        assert audience["config"]["access.token.claim"] == "true"
        assert not {"profile", "email", "address", "phone"} & set(client["defaultClientScopes"])


def test_the_public_client_uses_pkce_and_redirects_only_to_this_machine():
    public = CLIENTS[keycloak.PUBLIC_CLIENT]
    assert public["publicClient"] is True
    assert public["attributes"]["pkce.code.challenge.method"] == "S256"
    assert all(uri.startswith(("http://127.0.0.1/", "http://localhost/")) for uri in public["redirectUris"])


def test_secrets_are_generated_once_readable_only_by_their_owner_and_kept(tmp_path):
    settings = StackSettings(state_dir=tmp_path)
    first = keycloak.generated_secrets(settings)
    assert set(first) == {*keycloak.PLACEHOLDER.findall(keycloak.REALM_TEMPLATE.read_text()), keycloak.ADMIN_PASSWORD}
    assert len(set(first.values())) == len(first) and all(len(value) >= 32 for value in first.values())
    assert stat.S_IMODE(keycloak.secrets_file(settings).stat().st_mode) == 0o600
    assert keycloak.generated_secrets(settings) == first
    assert keycloak.user_password(settings, "demo-alice") == first[keycloak.password_variable("demo-alice")]


def test_descriptions_fit_keycloaks_columns():
    # Keycloak stores them in VARCHAR(255) and refuses to start with a longer one.
    for thing in [*CLIENTS.values(), *REALM["roles"]["realm"]]:
        assert len(thing.get("description", "")) <= 255, thing["description"]


def test_the_user_tasks_candidate_groups_are_realm_groups_with_their_members():
    assert {group["name"] for group in REALM["groups"]} == set(TASK_GROUPS)
    assert f"/{FULFILMENT_TEAM}" in USERS[keycloak.OPERATOR_USER]["groups"]
    reviewer = USERS[keycloak.REVIEWER_USER]
    assert reviewer["groups"] == [f"/{FULFILMENT_REVIEWERS}"]
    assert not reviewer["realmRoles"]  # a reviewer is no operator: only their group lets them at review tasks
    assert USERS[keycloak.TEAMMATE_USER]["groups"] == [f"/{FULFILMENT_TEAM}"]
    assert not USERS[keycloak.TEAMMATE_USER]["realmRoles"]


def test_every_candidate_group_in_the_bpmn_is_a_realm_group():
    groups = {group["name"] for group in REALM["groups"]}
    for bpmn in (REPO_ROOT / "bpmn").glob("*.bpmn"):
        for named in re.findall(r'candidateGroups="([^"]*)"', bpmn.read_text()):
            assert {g.strip() for g in named.split(",")} <= groups, f"{bpmn.name}: {named}"


def test_human_tokens_carry_the_callers_group_names_and_username():
    mappers = {m["protocolMapper"]: m["config"] for m in CLIENTS[keycloak.PUBLIC_CLIENT]["protocolMappers"]}
    groups = mappers["oidc-group-membership-mapper"]
    assert groups["claim.name"] == "groups" and groups["full.path"] == "false"
    assert groups["access.token.claim"] == "true"
    username = mappers["oidc-usermodel-property-mapper"]
    assert (username["user.attribute"], username["claim.name"]) == ("username", "preferred_username")
    assert username["access.token.claim"] == "true"


def test_the_template_with_secrets_filled_in_has_no_placeholder_left(tmp_path):
    filled = json.dumps(keycloak.realm_with_secrets(StackSettings(state_dir=tmp_path)))
    assert "${" not in filled
    assert keycloak.generated_secrets(StackSettings(state_dir=tmp_path))[
        keycloak.password_variable(keycloak.REVIEWER_USER)] in filled
