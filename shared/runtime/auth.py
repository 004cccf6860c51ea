"""Who is calling: bearer tokens checked against the OpenID Connect provider, the roles each route allows,
and tokens for calls this service makes itself.

A route says who may call it with `dependencies=[allow(role, ...)]` (or `[PUBLIC]`); `shared.runtime.service.create_app`
refuses a route that says neither. Tokens are checked with PyJWT: the signature against the provider's keys
(its JWKS, kept until a token names a key id they lack, then fetched again at most once per interval), the issuer,
the audience and the expiry. A caller with a valid token draws on its subject's rate allowance (limits.py).
"""
from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Generator
from dataclasses import dataclass
from typing import Annotated

import httpx
import jwt
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

# Asymmetric signatures only: a token signed with a shared secret (HS256) or none is never accepted.
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256"]
# Clocks of this machine and the provider's may differ a little.
LEEWAY_SECONDS = 30
# A fetch of the provider's keys runs in a request's thread; it must not hold that thread long.
JWKS_TIMEOUT_SECONDS = 5


class InvalidToken(Exception):
    """The token is missing, malformed, expired, not signed by the provider, or not meant for this API."""


class ProviderUnreachable(Exception):
    """The provider's keys could not be fetched, so no token can be checked now."""


@dataclass(frozen=True)
class Caller:
    """The subject of a valid token (a user's id, or a service account's), its roles, the groups it is a member of
    (plain names, the `groups` claim) and its username (`preferred_username`; the subject if the token has none)."""

    subject: str
    roles: frozenset[str]
    groups: frozenset[str] = frozenset()
    username: str = ""

    def __post_init__(self) -> None:
        if not self.username:
            object.__setattr__(self, "username", self.subject)

    def has(self, role: str) -> bool:
        return role in self.roles

    def in_group(self, group: str) -> bool:
        return group in self.groups


class SigningKeys:
    """The provider's signing keys by key id, fetched from its JWKS when a token names a key id they lack, but at most
    once every `refresh_seconds`: within that interval such a token is refused at once, so tokens with made-up key
    ids cost no fetch each. While one request fetches, no other waits for it."""

    def __init__(self, jwks_url: str, refresh_seconds: float) -> None:
        self.source = jwt.PyJWKClient(jwks_url, cache_jwk_set=False, timeout=JWKS_TIMEOUT_SECONDS)
        self.refresh_seconds = refresh_seconds
        self.keys: dict[str, jwt.PyJWK] = {}
        self.fetched_at = -math.inf  # monotonic; the last attempt, whether it succeeded or not
        self.failure: str | None = None  # why the last attempt failed
        self._fetching = threading.Lock()

    def for_token(self, token: str) -> jwt.PyJWK:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        if not kid:
            raise InvalidToken("the token names no signing key (no `kid` in its header)")
        key = self.keys.get(kid)
        if key is None:
            self._fetch_for(kid)
            key = self.keys.get(kid)
        if key is None:
            raise InvalidToken(f"the provider's signing keys have none with the id {kid!r}")
        return key

    def _fetch_for(self, kid: str) -> None:
        """Fetches the keys again unless that was tried less than an interval ago."""
        if self._tried_lately():
            return
        if not self._fetching.acquire(blocking=False):
            raise ProviderUnreachable(f"the signing keys are being fetched now (for a token naming key {kid!r}); "
                                      "try again in a moment")
        try:
            if self._tried_lately():  # by the request that held the lock just now
                return
            # The keys and the outcome are in place before the time is, so no request reads the one without the other.
            try:
                fetched = self.source.get_signing_keys(refresh=True)
            except (jwt.PyJWTError, ValueError) as exc:  # unreachable, or an answer that is no key set
                self.failure = str(exc)
                self.fetched_at = time.monotonic()
                raise ProviderUnreachable(self.failure) from exc
            self.keys = {key.key_id: key for key in fetched}
            self.failure = None
            self.fetched_at = time.monotonic()
        finally:
            self._fetching.release()

    def _tried_lately(self) -> bool:
        """Whether the keys were fetched less than an interval ago; if that failed, why, as ProviderUnreachable."""
        if time.monotonic() - self.fetched_at >= self.refresh_seconds:
            return False
        if self.failure is not None:
            raise ProviderUnreachable(self.failure)
        return True


class TokenVerifier:
    """Checks bearer tokens; a token found valid is remembered until it expires, as a client sends the same token
    with every request for its lifetime and a full check costs about as much CPU as the rest of a small request."""

    REMEMBERED = 1024

    def __init__(self, issuer: str, audience: str, jwks_url: str, keys_refresh_seconds: float = 30) -> None:
        self.issuer = issuer
        self.audience = audience
        self.keys = SigningKeys(jwks_url, keys_refresh_seconds)
        self._valid: OrderedDict[str, tuple[Caller, float]] = OrderedDict()
        self._lock = threading.Lock()

    def caller(self, token: str) -> Caller:
        with self._lock:
            remembered = self._valid.get(token)
            if remembered is not None:
                if time.time() < remembered[1]:
                    self._valid.move_to_end(token)
                    return remembered[0]
                del self._valid[token]
        caller, expires_at = self._check(token)
        with self._lock:
            self._valid[token] = (caller, expires_at)
            if len(self._valid) > self.REMEMBERED:
                self._valid.popitem(last=False)
        return caller

    def _check(self, token: str) -> tuple[Caller, float]:
        """The caller of a token, checked in full, and until when the check holds (its expiry, with the leeway)."""
        key = self.keys.for_token(token)
        try:
            claims = jwt.decode(token, key.key, algorithms=ALGORITHMS, audience=self.audience, issuer=self.issuer,
                                leeway=LEEWAY_SECONDS, options={"require": ["exp", "iat", "iss", "aud"]})
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        roles = (claims.get("realm_access") or {}).get("roles") or []
        groups = claims.get("groups") or []
        username = claims.get("preferred_username")
        # A token without a subject (a client without the realm's `basic` scope) may read; it may not act (Actor).
        subject = claims.get("sub")
        caller = Caller(subject=subject if isinstance(subject, str) else "",
                        roles=frozenset(r for r in roles if isinstance(r, str)),
                        groups=frozenset(g.lstrip("/") for g in groups if isinstance(g, str)),
                        username=username if isinstance(username, str) else "")
        return caller, float(claims["exp"]) + LEEWAY_SECONDS


bearer = HTTPBearer(auto_error=False, scheme_name="bearer",
                    description="An access token of the suite's realm (`fulfil token` prints one)")
NOT_AUTHENTICATED = {"WWW-Authenticate": 'Bearer realm="fulfilment"'}


def _caller(request: Request,
            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Caller:
    if credentials is None:
        raise HTTPException(401, detail="missing bearer token: send `Authorization: Bearer <access token>`",
                            headers=NOT_AUTHENTICATED)
    try:
        caller = request.app.state.token_verifier.caller(credentials.credentials)
    except InvalidToken as exc:
        raise HTTPException(401, detail=f"invalid bearer token: {exc}",
                            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from exc
    except ProviderUnreachable as exc:
        raise HTTPException(503, detail=f"the identity provider's signing keys cannot be fetched now: {exc}") from exc
    # Keyed on the subject, not the token: a caller that logs in again gets no fresh allowance.
    allowance = request.app.state.caller_rate_limit
    wait = allowance.take(caller.subject, time.monotonic())
    if wait > 0:
        detail, headers = allowance.refusal(wait)
        raise HTTPException(429, detail=detail, headers=headers)
    return caller


class Allow:
    """A route's requirement: a valid token with at least one of these roles, or of a member of one of `groups`."""

    def __init__(self, *roles: str, groups: tuple[str, ...] = ()) -> None:
        if not roles and not groups:
            raise ValueError("a route allows at least one role or group; a route open to anyone uses PUBLIC")
        self.roles = frozenset(roles)
        self.groups = frozenset(groups)

    @property
    def access(self) -> frozenset[str]:
        """The roles, and the groups as `group:<name>`: what the OpenAPI document and the access tests list."""
        return self.roles | {f"group:{group}" for group in self.groups}

    def __call__(self, caller: Annotated[Caller, Depends(_caller)]) -> Caller:
        if not caller.roles & self.roles and not caller.groups & self.groups:
            raise HTTPException(403, detail=self._refusal(caller))
        return caller

    def _refusal(self, caller: Caller) -> str:
        if not self.groups:
            return (f"this needs the role {' or '.join(sorted(self.roles))}; "
                    f"the token has {', '.join(sorted(caller.roles)) or 'no role'}")
        needs = [f"the role {' or '.join(sorted(self.roles))}"] if self.roles else []
        needs.append(f"membership of the group {' or '.join(sorted(self.groups))}")
        return (f"this needs {' or '.join(needs)}; the token has the roles {', '.join(sorted(caller.roles)) or 'none'} "
                f"and the groups {', '.join(sorted(caller.groups)) or 'none'} (an administrator adds a user to a "
                "group in Keycloak's admin console)")


def allow(*roles: str, groups: tuple[str, ...] = ()):
    """For a route's `dependencies`: callers with a valid token and one of `roles`, or in one of `groups`."""
    return Depends(Allow(*roles, groups=groups))


def anyone() -> None:
    """A route open without a token (a page a browser loads before it has one)."""


PUBLIC = Depends(anyone)
CurrentCaller = Annotated[Caller, Depends(_caller)]
"""A route parameter for the caller its `allow(...)` let in (checked once per request)."""

NO_ACTOR = ("this action records who did it, and the token names nobody (no `sub` claim): log in as a person or "
            "with a client whose tokens carry a subject")


def _actor(caller: CurrentCaller) -> Caller:
    if not caller.subject:
        raise HTTPException(403, detail=NO_ACTOR)
    return caller


Actor = Annotated[Caller, Depends(_actor)]
"""A route parameter for the caller of an action that is recorded with who did it (its token's subject): a token
without a subject is refused with 403."""


def route_access(dependencies) -> frozenset[str] | None:
    """The roles a route allows (its groups as `group:<name>` if it allows no role), frozenset() for a public one,
    None if it declares neither."""
    for dependency in dependencies:
        if isinstance(dependency.call, Allow):
            return dependency.call.roles or dependency.call.access
        if dependency.call is anyone:
            return frozenset()
    return None


class TokenUnavailable(Exception):
    """The provider refused to issue a token (wrong secret, unknown client) or could not be reached."""


class OAuthToken(httpx.Auth):
    """An httpx authentication that gets an access token with `grant` (a token request's form fields), sends it
    as a bearer token, and gets a new one shortly before it expires or when a call answers 401."""

    requires_response_body = True
    RENEW_SECONDS_BEFORE_EXPIRY = 30

    def __init__(self, token_url: str, grant: dict[str, str]) -> None:
        self.token_url = token_url
        self.grant = grant
        self.token: str | None = None
        self.expires_at = 0.0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.token is None or time.monotonic() > self.expires_at:
            self._keep((yield self._token_request()))
        request.headers["Authorization"] = f"Bearer {self.token}"
        response = yield request
        if response.status_code == 401:
            # The provider may have restarted and forgotten the session behind the token: one new token, one retry.
            self._keep((yield self._token_request()))
            request.headers["Authorization"] = f"Bearer {self.token}"
            yield request

    def access_token(self) -> str:
        """A valid token without calling anything else: for printing, or a header of one's own."""
        if self.token is None or time.monotonic() > self.expires_at:
            try:
                self._keep(httpx.post(self.token_url, data=self.grant, timeout=10))
            except httpx.HTTPError as exc:
                raise TokenUnavailable(f"{self.token_url} cannot be reached: {exc}") from exc
        return self.token

    def _token_request(self) -> httpx.Request:
        return httpx.Request("POST", self.token_url, data=self.grant)

    def _keep(self, response: httpx.Response) -> None:
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        if response.status_code != 200 or "access_token" not in body:
            reason = body.get("error_description") or body.get("error") or response.text[:200]
            raise TokenUnavailable(f"{self.token_url} issued no token for the {self.grant.get('grant_type')} grant "
                                   f"of {self.grant.get('client_id')}: {response.status_code} {reason}")
        self.token = body["access_token"]
        self.expires_at = time.monotonic() + float(body.get("expires_in", 60)) - self.RENEW_SECONDS_BEFORE_EXPIRY


def service_client_id(service: str) -> str:
    """The realm's confidential client of a service that calls another service's API."""
    return f"{service}-service"


def client_credentials(token_url: str, client_id: str, client_secret: str) -> OAuthToken:
    """A service's own token (its service account's roles), for calls to another service."""
    return OAuthToken(token_url, {"grant_type": "client_credentials", "client_id": client_id,
                                  "client_secret": client_secret})
