"""ID tokens for the OIDC tests, good and forged: signed by a key the provider publishes,
by one it does not, or not signed at all (`alg: none`)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey


def rsa_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


def ec_key(kid: str) -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": kid, "use": "sig", "alg": "ES256"})


def jwks(*keys: RSAKey | ECKey) -> dict[str, Any]:
    """The public JWKS a provider serves."""
    return KeySet(list(keys)).as_dict(private=False)


def claims(issuer: str, audience: str | list[str], subject: str = "alice", **extra: Any) -> dict:
    now = int(time.time())
    return {"iss": issuer, "aud": audience, "sub": subject, "iat": now, "exp": now + 300, **extra}


def signed(payload: dict[str, Any], key: RSAKey | ECKey, alg: str = "RS256") -> str:
    kid = key.kid
    return jwt.encode({"alg": alg, "kid": kid}, payload, key, algorithms=[alg])


def unsigned(payload: dict[str, Any], kid: str | None = None) -> str:
    """`alg: none`: a header, the claims and an empty signature."""
    header = {"alg": "none", "typ": "JWT", **({"kid": kid} if kid else {})}
    parts = [_b64(json.dumps(header).encode()), _b64(json.dumps(payload).encode()), ""]
    return ".".join(parts)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
