"""Keycloak, the OpenID Connect provider of the suite, from its Maven Central distribution.

The suite's realm (tools/stack/keycloak-realm.json) is imported at the first start. The template holds no
secret: every `${FULFIL_KEYCLOAK_...}` in it is a client secret or a user's password, generated once into
the git-ignored state folder and handed to Keycloak, which fills them in as it imports the realm.

Keycloak imports a realm only when it does not have it yet (`--import-realm` skips an existing one), so a stack
that started before the template changed would never see the change. After every start the launcher therefore
applies a changed template to the running realm through the admin API (`sync_realm`): what is new is added
(groups, roles, clients, users with their passwords and groups), the template's group memberships and protocol
mappers are added to users and clients that exist already. Nothing is removed or overwritten, so user ids, and the
orders that belong to them, stay; to start from the template alone, stop the stack and delete
`.stack/keycloak/data`.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import urllib.request
from pathlib import Path

import httpx

from shared.runtime.auth import OAuthToken
from tools.stack import artifacts, secrets
from tools.stack.config import KEYCLOAK_REALM, KEYCLOAK_VERSION, StackSettings
from tools.stack.errors import StackError
from tools.stack.java import java_home
from tools.stack.processes import needs_start, start_detached, step, wait_until

NAME = "keycloak"
REALM_TEMPLATE = Path(__file__).with_name("keycloak-realm.json")
PLACEHOLDER = re.compile(r"\$\{(FULFIL_KEYCLOAK_\w+)\}")
# The master realm's administrator (http://127.0.0.1:8180/admin), which Keycloak creates at its first start.
ADMIN_USER = "admin"
ADMIN_PASSWORD = "FULFIL_KEYCLOAK_ADMIN_PASSWORD"
# The public client: Swagger UI and the pages log in through it with PKCE, the command line with a password.
PUBLIC_CLIENT = "fulfil-cli"
# Services that call another service's API, each with its own confidential client `<service>-service` whose
# account has the role `service`: Delivery reads shipping addresses, Order's reconciler reads the process monitor.
CALLING_SERVICES = ("delivery", "order")


def password_variable(username: str) -> str:
    """The placeholder of a realm user's password in the template."""
    return f"FULFIL_KEYCLOAK_{username.upper().replace('-', '_')}_PASSWORD"


def secret_variable(client_id: str) -> str:
    """The placeholder of a confidential client's secret in the template."""
    return f"FULFIL_KEYCLOAK_{client_id.upper().replace('-', '_')}_SECRET"


def secrets_file(settings: StackSettings) -> Path:
    return settings.state_dir / NAME / "secrets.json"


def generated_secrets(settings: StackSettings) -> dict[str, str]:
    """Every secret the realm needs, by placeholder name: generated at the first start, the same ever after."""
    return secrets.generated(secrets_file(settings), {*PLACEHOLDER.findall(REALM_TEMPLATE.read_text()), ADMIN_PASSWORD})


def user_password(settings: StackSettings, username: str) -> str:
    """A demo user's password, as the realm was imported with it (the stack must have started once)."""
    return secrets.stored(secrets_file(settings), password_variable(username), f"user {username}")


def client_secret(settings: StackSettings, client_id: str) -> str:
    return secrets.stored(secrets_file(settings), secret_variable(client_id), f"client {client_id}")


def server_options(settings: StackSettings) -> list[str]:
    """Development mode (no TLS, a file database) on loopback, one fixed issuer whatever name a client uses."""
    return [
        "start-dev",
        f"--http-host={settings.bind_host}",
        f"--http-port={settings.keycloak_port}",
        f"--http-management-port={settings.keycloak_management_port}",
        "--health-enabled=true",
        f"--hostname=http://127.0.0.1:{settings.keycloak_port}",
        "--import-realm",
    ]


def start(settings: StackSettings) -> None:
    """Start Keycloak without waiting for it: its JVM starts while Kafka and Camunda do (see `wait_ready`)."""
    if not needs_start(settings, NAME, f"Keycloak already running on http://127.0.0.1:{settings.keycloak_port}",
                       {settings.keycloak_port: "Keycloak",
                        settings.keycloak_management_port: "Keycloak's management interface"}):
        return
    home = artifacts.keycloak_home(settings)
    _keep_data_in_state_folder(settings, home)
    realm_import = home / "data" / "import"
    realm_import.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REALM_TEMPLATE, realm_import / f"{KEYCLOAK_REALM}-realm.json")
    given = generated_secrets(settings)
    env = {
        "JAVA_HOME": str(java_home()),
        "JAVA_OPTS_KC_HEAP": f"-Xms64m -Xmx{settings.keycloak_heap}",
        "KC_BOOTSTRAP_ADMIN_USERNAME": ADMIN_USER,
        "KC_BOOTSTRAP_ADMIN_PASSWORD": given[ADMIN_PASSWORD],
        **{name: value for name, value in given.items() if name != ADMIN_PASSWORD},
    }
    step(f"starting Keycloak {KEYCLOAK_VERSION} on http://127.0.0.1:{settings.keycloak_port} "
         f"(realm {KEYCLOAK_REALM}; secrets in {secrets_file(settings)})")
    start_detached(settings, NAME, [str(home / "bin" / "kc.sh"), *server_options(settings)], env=env, cwd=home)


def wait_ready(settings: StackSettings) -> None:
    wait_until(lambda: ready(settings), what="Keycloak and its realm", timeout=300,
               settings=settings, log_name=NAME, pid_name=NAME)


def _keep_data_in_state_folder(settings: StackSettings, home: Path) -> None:
    """Keycloak keeps its database, transaction logs and realm imports in its home's `data` folder; that
    folder is made a link into the state folder, so the download stays as it was fetched."""
    data = settings.state_dir / NAME / "data"
    data.mkdir(parents=True, exist_ok=True)
    link = home / "data"
    if link.is_symlink() and link.resolve() == data.resolve():
        return
    if link.is_symlink() or link.is_file():
        link.unlink()
    elif link.is_dir():
        shutil.rmtree(link)
    os.symlink(data, link, target_is_directory=True)


def ready(settings: StackSettings) -> bool:
    """Keycloak reports itself ready and the realm answers with its OpenID configuration."""
    for url in (f"http://127.0.0.1:{settings.keycloak_management_port}/health/ready",
                f"{settings.auth_issuer}/.well-known/openid-configuration"):
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status != 200:
                    return False
        except (OSError, ValueError):
            return False
    return True


def realm_with_secrets(settings: StackSettings) -> dict:
    """The realm template with its placeholders filled in, as Keycloak fills them in when it imports it."""
    given = generated_secrets(settings)
    return json.loads(PLACEHOLDER.sub(lambda found: given[found[1]], REALM_TEMPLATE.read_text()))


def _applied_file(settings: StackSettings) -> Path:
    return settings.state_dir / NAME / "realm-applied.sha256"


def sync_realm(settings: StackSettings) -> list[str]:
    """Add what the template has and the running realm lacks (see the module's docstring); what was added, or
    nothing when the template is the one applied last. Keycloak must be ready."""
    digest = hashlib.sha256(REALM_TEMPLATE.read_bytes()).hexdigest()
    applied = _applied_file(settings)
    if applied.is_file() and applied.read_text().strip() == digest:
        return []
    realm = realm_with_secrets(settings)
    with admin_client(settings, realm["realm"]) as admin:
        added = add_missing(admin, realm)
    applied.write_text(digest + "\n")
    return added


def admin_client(settings: StackSettings, realm: str) -> httpx.Client:
    """Keycloak's admin REST API for one realm (`/admin/realms/<realm>`), as the master realm's administrator."""
    base = f"http://127.0.0.1:{settings.keycloak_port}"
    token = httpx.post(f"{base}/realms/master/protocol/openid-connect/token", timeout=10, data={
        "grant_type": "password", "client_id": "admin-cli", "username": ADMIN_USER,
        "password": generated_secrets(settings)[ADMIN_PASSWORD]})
    if token.status_code != 200:
        raise StackError(f"Keycloak's administrator {ADMIN_USER} could not log in to apply the changed realm "
                         f"template ({token.status_code} {token.text[:200]}); its password is "
                         f"{ADMIN_PASSWORD} in {secrets_file(settings)}")
    return httpx.Client(base_url=f"{base}/admin/realms/{realm}", timeout=30,
                        headers={"Authorization": f"Bearer {token.json()['access_token']}"})


def add_missing(admin: httpx.Client, realm: dict) -> list[str]:
    """What `realm` (a realm representation) has and the realm `admin` manages lacks, added; what was added."""
    def ok(response: httpx.Response) -> httpx.Response:
        if response.status_code >= 400:
            raise StackError(f"Keycloak refused {response.request.method} {response.request.url} while applying "
                             f"the realm template: {response.status_code} {response.text[:300]}")
        return response

    # Groups one by one: Keycloak 26's partial import fails on a group (a NullPointerException, answered with 500).
    added: list[str] = []
    groups = {group["name"]: group["id"] for group in ok(admin.get("/groups", params={"max": 1000})).json()}
    for group in realm.get("groups", []):
        if group["name"] not in groups:
            ok(admin.post("/groups", json=group))
            added.append(f"group {group['name']}")
    groups = {group["name"]: group["id"] for group in ok(admin.get("/groups", params={"max": 1000})).json()}
    # New roles, clients and users; existing ones are skipped, never overwritten (that would give users new ids).
    imported = ok(admin.post("/partialImport", json={
        "ifResourceExists": "SKIP", "roles": realm.get("roles", {}), "clients": realm.get("clients", []),
        "users": realm.get("users", [])})).json()
    added += [f"{r['resourceType'].lower()} {r['resourceName']}" for r in imported.get("results", [])
              if r.get("action") == "ADDED"]
    for user in realm.get("users", []):
        for path in user.get("groups", []):
            (found,) = ok(admin.get("/users", params={"username": user["username"], "exact": "true"})).json()
            member_of = {group["name"] for group in ok(admin.get(f"/users/{found['id']}/groups")).json()}
            name = path.rsplit("/", 1)[-1]
            if name not in member_of:
                ok(admin.put(f"/users/{found['id']}/groups/{groups[name]}"))
                added.append(f"{user['username']} in group {name}")
    for client in realm.get("clients", []):
        (found,) = ok(admin.get("/clients", params={"clientId": client["clientId"]})).json()
        has = {mapper["name"] for mapper in found.get("protocolMappers", [])}
        for mapper in client.get("protocolMappers", []):
            if mapper["name"] not in has:
                ok(admin.post(f"/clients/{found['id']}/protocol-mappers/models", json=mapper))
                added.append(f"mapper {mapper['name']} of client {client['clientId']}")
    return added


# The demo users of the realm template: the command line, `make demo`, the bench, the soak and the tests act as them.
OPERATOR_USER = "demo-operator"
CUSTOMER_USERS = ("demo-alice", "demo-bob")
# In the group fulfilment-reviewers and no role: reviews orders, nothing else.
REVIEWER_USER = "demo-reviewer"
# In the group fulfilment-team and no role: a second person on the deadline tasks, who works only on those.
TEAMMATE_USER = "demo-teammate"


def login(settings: StackSettings, username: str = OPERATOR_USER) -> OAuthToken:
    """A local login as one of the realm's demo users, with the password generated for it: an httpx `auth`
    that renews its token as it goes, or `.access_token()` for one to paste."""
    return OAuthToken(f"{settings.auth_issuer}/protocol/openid-connect/token",
                      {"grant_type": "password", "client_id": PUBLIC_CLIENT, "username": username,
                       "password": user_password(settings, username)})
