"""What one caller may ask of a service: request bodies up to a size (413 beyond), and requests at a rate (429
beyond, with Retry-After), so a burst from one client is refused instead of slowing the stack for all.

The body size and the rate per client address are ASGI middleware in front of the routes (liveness, readiness and
metrics are never rate-limited); the rate per token subject is taken once the token is checked (shared/runtime/auth.py).
"""
from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.runtime.problems import problem_response

UNLIMITED_PATHS = frozenset({"/health", "/ready", "/metrics"})
# Addresses or subjects remembered at once; the longest idle is forgotten first (its bucket would be full anyway).
MAX_CALLERS = 10_000


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, detail: str,
                  headers: dict[str, str] | None = None) -> None:
    await problem_response(status, detail, instance=scope["path"], headers=headers)(scope, receive, send)


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


class TokenBuckets:
    """A token bucket per key (a client address, a token's subject): `per_second` requests on average, bursts of up
    to `burst`. Each replica counts for itself."""

    def __init__(self, per_second: float, burst: int, whose: str) -> None:
        self.per_second = per_second
        self.burst = burst
        self.whose = whose  # how a refusal names the key: "from this address"
        self.buckets: OrderedDict[Hashable, tuple[float, float]] = OrderedDict()  # key -> (tokens, when)
        # Subjects are taken in the request threads: two at once must not both find the bucket missing (and full).
        self._lock = threading.Lock()

    def take(self, key: Hashable, now: float) -> float:
        """Take one request from the key's bucket: 0 if there was one, else the seconds until there is."""
        with self._lock:
            tokens, then = self.buckets.pop(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - then) * self.per_second)
            if tokens >= 1:
                tokens -= 1
                wait = 0.0
            else:
                wait = (1 - tokens) / self.per_second
            self.buckets[key] = (tokens, now)
            if len(self.buckets) > MAX_CALLERS:
                self.buckets.popitem(last=False)
        return wait

    def refusal(self, wait: float) -> tuple[str, dict[str, str]]:
        """The detail and headers of a 429 for a request that would have to wait `wait` seconds."""
        seconds = math.ceil(wait)
        return (f"too many requests {self.whose}: at most {self.per_second:g} a second on average (bursts of "
                f"{self.burst}); try again in {seconds} s", {"Retry-After": str(seconds)})


class RateLimit:
    """A token bucket per client address, taken before anything else is done with a request: whatever token each
    request carries (none, or a new made-up one every time), requests from one address share one allowance."""

    def __init__(self, app: ASGIApp, per_second: float, burst: int) -> None:
        self.app = app
        self.buckets = TokenBuckets(per_second, burst, "from this address")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        wait = self.buckets.take((scope.get("client") or ("?",))[0], time.monotonic())
        if wait > 0:
            detail, headers = self.buckets.refusal(wait)
            await _refuse(scope, receive, send, 429, detail, headers)
            return
        await self.app(scope, receive, send)
