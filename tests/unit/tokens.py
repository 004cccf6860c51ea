"""Access tokens signed by a test key, and a JWKS endpoint on loopback that serves the key and counts its fetches."""
from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "http://provider/realms/test"
AUDIENCE = "fulfilment-api"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KID = "test-key"


def token(expires_in: float = 300, *, subject: str | None = "alice", roles: tuple[str, ...] = ("customer",),
          key=KEY, kid: str = KID) -> str:
    """A token of `subject` (None: a token naming nobody); each one differs from the last (its own `jti`), as a
    client's next login's does."""
    now = time.time()
    claims = {"sub": subject, "iss": ISSUER, "aud": AUDIENCE, "iat": int(now), "exp": int(now + expires_in),
              "jti": str(uuid.uuid4()), "realm_access": {"roles": list(roles)}}
    if subject is None:
        del claims["sub"]
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def public_jwk(key=KEY, kid: str = KID) -> dict:
    return {**jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": kid, "alg": "RS256",
            "use": "sig"}


class JwksEndpoint:
    """The provider's JWKS on 127.0.0.1: serves `keys` (or 500 while `failing`), counts each fetch in `fetches`,
    and while `held` is clear answers nothing until it is set."""

    def __init__(self) -> None:
        self.keys = [public_jwk()]
        self.failing = False
        self.fetches = 0
        self.held = threading.Event()
        self.held.set()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                endpoint.fetches += 1
                endpoint.held.wait(10)
                body = json.dumps({"keys": endpoint.keys}).encode()
                self.send_response(500 if endpoint.failing else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/certs"

    def __enter__(self) -> JwksEndpoint:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.held.set()
        self.server.shutdown()
        self.server.server_close()
