"""A changed realm template reaches a Keycloak that imported an older one: applied to a scratch realm of the running
Keycloak made from the template as it was before the groups, it adds what is new and keeps every user's id."""
from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from shared.contracts.roles import FULFILMENT_REVIEWERS, FULFILMENT_TEAM
from tools.stack import keycloak


@contextmanager
def scratch_realm(stack, representation: dict) -> Iterator[tuple[str, httpx.Client]]:
    """A realm of the running Keycloak imported from `representation` under a name of its own, and its admin API;
    deleted afterwards."""
    name = f"sync-test-{uuid.uuid4().hex[:8]}"
    with keycloak.admin_client(stack, name) as admin:
        realms = admin.base_url.copy_with(path="/admin/realms")
        created = httpx.post(realms, json={**representation, "realm": name}, headers=admin.headers, timeout=60)
        assert created.status_code == 201, created.text
        try:
            yield name, admin
        finally:
            admin.delete("")


@pytest.fixture
def older_realm(stack):
    """A scratch realm imported from the template without its groups, group members, reviewer and groups mapper."""
    older = copy.deepcopy(keycloak.realm_with_secrets(stack))
    older.pop("groups")
    older["users"] = [u for u in older["users"] if u["username"] != keycloak.REVIEWER_USER]
    for user in older["users"]:
        user.pop("groups", None)
    for client in older["clients"]:
        client["protocolMappers"] = [m for m in client["protocolMappers"] if m["name"] != "groups"]
    with scratch_realm(stack, older) as realm:
        yield realm


def user_id(admin: httpx.Client, username: str) -> str:
    (found,) = admin.get("/users", params={"username": username, "exact": "true"}).json()
    return found["id"]


def test_the_new_groups_members_user_and_mapper_are_added_and_existing_users_keep_their_ids(stack, older_realm):
    name, admin = older_realm
    alice = user_id(admin, keycloak.CUSTOMER_USERS[0])
    template = {**keycloak.realm_with_secrets(stack), "realm": name}

    added = keycloak.add_missing(admin, template)

    assert {f"group {FULFILMENT_TEAM}", f"group {FULFILMENT_REVIEWERS}", f"user {keycloak.REVIEWER_USER}",
            f"{keycloak.OPERATOR_USER} in group {FULFILMENT_TEAM}",
            f"mapper groups of client {keycloak.PUBLIC_CLIENT}"} <= set(added)
    assert user_id(admin, keycloak.CUSTOMER_USERS[0]) == alice
    operator = user_id(admin, keycloak.OPERATOR_USER)
    assert [g["name"] for g in admin.get(f"/users/{operator}/groups").json()] == [FULFILMENT_TEAM]
    reviewer = user_id(admin, keycloak.REVIEWER_USER)
    assert [g["name"] for g in admin.get(f"/users/{reviewer}/groups").json()] == [FULFILMENT_REVIEWERS]
    # Applied again, it finds nothing to add.
    assert keycloak.add_missing(admin, template) == []


def test_a_fresh_import_of_the_template_has_the_groups_and_members_and_leaves_the_sync_nothing_to_add(stack):
    # What Keycloak's first start does with the template (a fresh clone, CI): the same import, into a scratch realm.
    template = keycloak.realm_with_secrets(stack)
    with scratch_realm(stack, template) as (name, admin):
        operator = user_id(admin, keycloak.OPERATOR_USER)
        assert [g["name"] for g in admin.get(f"/users/{operator}/groups").json()] == [FULFILMENT_TEAM]
        assert keycloak.add_missing(admin, {**template, "realm": name}) == []
