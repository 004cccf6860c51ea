"""What one caller may ask of a service: request bodies up to a size (413 beyond), and requests at a rate per
token (429 beyond, with Retry-After), so a burst from one client is refused instead of slowing the stack for all.

Both are ASGI middleware in front of the routes; liveness, readiness and metrics are never rate-limited.
"""
from __future__ import annotations

import hashlib
import math
import time
from collections import OrderedDict

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runtime.http import Problem

UNLIMITED_PATHS = frozenset({"/health", "/ready", "/metrics"})
# Callers remembered at once; the longest idle is forgotten first (it would have a full bucket anyway).
MAX_CALLERS = 10_000


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, detail: str,
                  headers: dict[str, str] | None = None) -> None:
    response = JSONResponse(status_code=status, content=Problem(detail=detail).model_dump(exclude_none=True),
                            headers=headers)
    await response(scope, receive, send)


class BodySizeLimit:
    """413 for a request body over `max_bytes`, whether it says its length or is sent in chunks."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        if declared is not None:
            await self.app(scope, receive, send)
            return
        # No length given (chunked): read the body here, up to the limit, and hand it on as it came.
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _refuse(scope, receive, send, 413, f"the request body is larger than {self.max_bytes} bytes")


class RateLimit:
    """A token bucket per caller: `per_second` requests on average, bursts of up to `burst`.

    A caller is its bearer token (each token its own bucket, unverified: a request with a bad token is refused
    later anyway), or its address when it sends none. Each replica counts for itself.
    """

    def __init__(self, app: ASGIApp, per_second: float, burst: int) -> None:
        self.app = app
        self.per_second = per_second
        self.burst = burst
        self.buckets: OrderedDict[bytes, tuple[float, float]] = OrderedDict()  # caller -> (tokens, when)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        wait = self.take(self.caller(scope), time.monotonic())
        if wait > 0:
            await _refuse(scope, receive, send, 429,
                          f"too many requests with this token: at most {self.per_second:g} a second on average "
                          f"(bursts of {self.burst}); try again in {math.ceil(wait)} s",
                          headers={"Retry-After": str(math.ceil(wait))})
            return
        await self.app(scope, receive, send)

    @staticmethod
    def caller(scope: Scope) -> bytes:
        authorization = dict(scope["headers"]).get(b"authorization")
        if authorization:
            return hashlib.sha256(authorization).digest()
        return f"address {(scope.get('client') or ('?',))[0]}".encode()

    def take(self, caller: bytes, now: float) -> float:
        """Take one request from the caller's bucket: 0 if there was one, else the seconds until there is."""
        tokens, then = self.buckets.pop(caller, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - then) * self.per_second)
        if tokens >= 1:
            tokens -= 1
            wait = 0.0
        else:
            wait = (1 - tokens) / self.per_second
        self.buckets[caller] = (tokens, now)
        if len(self.buckets) > MAX_CALLERS:
            self.buckets.popitem(last=False)
        return wait
