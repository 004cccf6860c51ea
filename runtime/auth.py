"""Who is calling: bearer tokens checked against the OpenID Connect provider, the roles each route allows,
and tokens for calls this service makes itself.

A route says who may call it with `dependencies=[allow(role, ...)]` (or `[PUBLIC]`); `runtime.service.create_app`
refuses a route that says neither. Tokens are checked with PyJWT: the signature against the provider's keys
(its JWKS, cached and fetched again for a key it does not know yet), the issuer, the audience and the expiry.
"""
from __future__ import annotations

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


class InvalidToken(Exception):
    """The token is missing, malformed, expired, not signed by the provider, or not meant for this API."""


class ProviderUnreachable(Exception):
    """The provider's keys could not be fetched, so no token can be checked now."""


@dataclass(frozen=True)
class Caller:
    """The subject of a valid token (a user's id, or a service account's) and its roles."""

    subject: str
    roles: frozenset[str]

    def has(self, role: str) -> bool:
        return role in self.roles


class TokenVerifier:
    """Checks bearer tokens; a token found valid is remembered until it expires, as a client sends the same token
    with every request for its lifetime and a full check costs about as much CPU as the rest of a small request."""

    REMEMBERED = 1024

    def __init__(self, issuer: str, audience: str, jwks_url: str) -> None:
        self.issuer = issuer
        self.audience = audience
        self.keys = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300, timeout=5)
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
        try:
            key = self.keys.get_signing_key_from_jwt(token)
            claims = jwt.decode(token, key.key, algorithms=ALGORITHMS, audience=self.audience, issuer=self.issuer,
                                leeway=LEEWAY_SECONDS, options={"require": ["exp", "iat", "iss", "aud", "sub"]})
        except jwt.PyJWKClientConnectionError as exc:
            raise ProviderUnreachable(str(exc)) from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        roles = (claims.get("realm_access") or {}).get("roles") or []
        caller = Caller(subject=claims["sub"], roles=frozenset(r for r in roles if isinstance(r, str)))
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
        return request.app.state.token_verifier.caller(credentials.credentials)
    except InvalidToken as exc:
        raise HTTPException(401, detail=f"invalid bearer token: {exc}",
                            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from exc
    except ProviderUnreachable as exc:
        raise HTTPException(503, detail=f"the identity provider's signing keys cannot be fetched now: {exc}") from exc


class Allow:
    """A route's requirement: a valid token with at least one of these roles."""

    def __init__(self, *roles: str) -> None:
        if not roles:
            raise ValueError("a route allows at least one role; a route open to anyone uses PUBLIC")
        self.roles = frozenset(roles)

    def __call__(self, caller: Annotated[Caller, Depends(_caller)]) -> Caller:
        if not caller.roles & self.roles:
            raise HTTPException(403, detail=f"this needs the role {' or '.join(sorted(self.roles))}; "
                                            f"the token has {', '.join(sorted(caller.roles)) or 'no role'}")
        return caller


def allow(*roles: str):
    """For a route's `dependencies`: callers with a valid token and one of `roles`."""
    return Depends(Allow(*roles))


def anyone() -> None:
    """A route open without a token (a page a browser loads before it has one)."""


PUBLIC = Depends(anyone)
CurrentCaller = Annotated[Caller, Depends(_caller)]
"""A route parameter for the caller its `allow(...)` let in (checked once per request)."""


def route_access(dependencies) -> frozenset[str] | None:
    """The roles a route allows, frozenset() for a public one, None if it declares neither."""
    for dependency in dependencies:
        if isinstance(dependency.call, Allow):
            return dependency.call.roles
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
