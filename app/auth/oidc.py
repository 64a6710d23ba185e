"""Signing in through the organisation's identity provider (`ZHIKU_AUTH=oidc`).

Streamlit's `st.login` (Authlib) runs the OpenID Connect code flow and keeps the ID
token's claims in a cookie signed with zhiku's cookie secret. zhiku does not take those
claims on trust: Authlib accepts whatever algorithm the provider's metadata lists
(`none` included) and copies a `userinfo` object from the token response when no ID
token comes with it. So the raw ID token is checked here, once per browser tab: signed
by a key of the provider's JWKS with RS256 or ES256 only, issued by the provider, for
zhiku's client id, and unexpired when it is first seen (seconds after the callback).

A sign-in then lasts `ZHIKU_SESSION_HOURS` from the token's issue time, as with
`local`; sign-out records the token's fingerprint so the same cookie, replayed, is
refused. The user's account is made at first sign-in and bound to the provider's
subject; role and groups follow the provider's groups at every sign-in.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from app.auth.access import NAME, Access, AccessError
from app.auth.sessions import Session, SignIns
from app.auth.types import ROLES, Role, rank
from app.settings import AccessSettings
from app.settings.rules import checked_provider_url

ALGORITHMS = ("RS256", "ES256")  # never `none`, never a symmetric key the client shares
LEEWAY_S = 120  # clock skew allowed between the provider and this machine
NAME_CLAIMS = ("preferred_username", "email", "sub")  # the first valid one names the account


class SignInRefused(Exception):
    """Why a sign-in through the provider is not accepted (one line, no token in it)."""


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in, from a checked ID token."""

    name: str
    issuer: str
    subject: str
    role: Role
    groups: tuple[str, ...]
    issued_at: float
    fingerprint: str  # of the ID token: names this sign-in in the audit trail


class Provider:
    """The identity provider's discovery document and signing keys, fetched once and
    again when a token names a key not seen yet (the provider rotated its keys)."""

    def __init__(self, metadata_url: str, client_id: str, timeout_s: float = 10.0) -> None:
        self.metadata_url = metadata_url
        self.client_id = client_id
        self.timeout_s = timeout_s
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None
        self._lock = threading.Lock()

    def _get(self, url: str) -> dict[str, Any]:
        response = httpx.get(url, timeout=self.timeout_s, follow_redirects=False)
        response.raise_for_status()
        return dict(response.json())

    def metadata(self) -> dict[str, Any]:
        with self._lock:
            if self._metadata is None:
                self._metadata = self._get(self.metadata_url)
            return self._metadata

    def keys(self, refresh: bool = False) -> KeySet:
        with self._lock:
            if self._keys is None or refresh:
                self._keys = None
                uri = str((self._metadata or {}).get("jwks_uri", ""))
                if not uri:
                    raise SignInRefused("the provider's metadata names no jwks_uri")
                checked_provider_url(uri)  # keys over https (http on loopback only)
                self._keys = KeySet.import_key_set(self._get(uri))  # type: ignore[arg-type]
            return self._keys

    def verify(self, id_token: str, now: float, fresh: bool) -> dict[str, Any]:
        """The claims of an ID token this provider issued to zhiku (`fresh`: it must also
        be unexpired now); raises `SignInRefused` otherwise."""
        try:
            issuer = str(self.metadata()["issuer"])
            self.keys()
        except (httpx.HTTPError, ValueError, KeyError, JoseError) as exc:
            raise SignInRefused(f"the provider cannot be reached ({type(exc).__name__})") from None
        claims = self._decode(id_token)
        _check_claims(claims, issuer, self.client_id, now, fresh)
        return claims

    def _decode(self, id_token: str) -> dict[str, Any]:
        try:
            try:
                token = jwt.decode(id_token, self.keys(), algorithms=list(ALGORITHMS))
            except InvalidKeyIdError:  # a key the provider added since: fetch them once more
                token = jwt.decode(id_token, self.keys(refresh=True), algorithms=list(ALGORITHMS))
        except JoseError as exc:
            raise SignInRefused(f"the ID token is not valid ({exc.error})") from None
        except (ValueError, TypeError):
            raise SignInRefused("the ID token is malformed") from None
        except httpx.HTTPError:
            raise SignInRefused("the provider's keys cannot be fetched") from None
        return dict(token.claims)


def _check_claims(claims: Mapping[str, Any], issuer: str, client_id: str, now: float,
                  fresh: bool) -> None:  # fmt: skip
    if claims.get("iss") != issuer:
        raise SignInRefused("the ID token was issued by another provider")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if client_id not in audiences or (len(audiences) > 1 and claims.get("azp") != client_id):
        raise SignInRefused("the ID token is for another application")
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or not isinstance(iat, int | float) or exp <= iat:
        raise SignInRefused("the ID token has no valid exp and iat")
    if iat > now + LEEWAY_S:
        raise SignInRefused("the ID token is issued in the future")
    if fresh and exp < now - LEEWAY_S:
        raise SignInRefused("the ID token has expired")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise SignInRefused("the ID token names no subject")


def fingerprint(id_token: str) -> str:
    """A sign-in's name in the audit trail: part of the token's digest, never the token."""
    return hashlib.sha256(id_token.encode()).hexdigest()[:24]


def role_of(groups: tuple[str, ...], roles: Mapping[str, Role], default: str) -> Role | None:
    """The highest role any of the groups maps to; else the default (None: refused)."""
    mapped = [roles[group] for group in groups if group in roles]
    if mapped:
        return max(mapped, key=rank)
    return next((role for role in ROLES if role == default), None)


def groups_of(claims: Mapping[str, Any], claim: str) -> tuple[str, ...]:
    value = claims.get(claim)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return ()
    return tuple(dict.fromkeys(str(group) for group in value if isinstance(group, str)))


def identity_of(claims: Mapping[str, Any], id_token: str, settings: AccessSettings) -> Identity:
    """The zhiku account a checked token stands for (raises `SignInRefused` when no
    role is mapped and the default is none)."""
    groups = groups_of(claims, settings.oidc_groups_claim)
    role = role_of(groups, settings.oidc_roles, settings.oidc_default_role)
    if role is None:
        raise SignInRefused("none of your groups has a role in zhiku")
    return Identity(
        name=account_name(claims),
        issuer=str(claims["iss"]),
        subject=str(claims["sub"]),
        role=role,
        groups=groups,
        issued_at=float(claims["iat"]),
        fingerprint=fingerprint(id_token),
    )


def account_name(claims: Mapping[str, Any]) -> str:
    for claim in NAME_CLAIMS:
        value = claims.get(claim)
        if isinstance(value, str) and NAME.fullmatch(value):
            return value
    raise SignInRefused("the ID token names you in no way zhiku can use as an account name")


class OidcSignIns(SignIns):
    """Sign-ins through the provider; `current` (expiry, disabled accounts, grants as
    they are now) is the same as for `local`."""

    def __init__(self, access: Access, settings: AccessSettings, provider: Provider) -> None:
        super().__init__(access, settings.session_hours, settings.sign_in_failures)
        self.settings = settings
        self.provider = provider

    def accept(self, id_token: str | None, client: str) -> Session:
        """The session of the ID token Streamlit holds for this browser, checked;
        a refusal is in the audit trail and raised as `SignInRefused`."""
        try:
            return self._accept(id_token, client)
        except (SignInRefused, AccessError) as exc:
            reason = str(exc)
            self.access.audit.record("anonymous", "sign_in.failed", "oidc", client, "denied",
                                     reason)  # fmt: skip
            raise SignInRefused(reason) from None

    def _accept(self, id_token: str | None, client: str) -> Session:
        if not id_token:
            raise SignInRefused("the provider gave no ID token")
        now = time.time()
        mark = f"oidc:{fingerprint(id_token)}"
        since = now - self.session_s - LEEWAY_S
        if self.access.audit.count("sign_out", since, detail=mark):
            raise SignInRefused("this sign-in has ended; sign in again")
        known = self.access.audit.count("sign_in", since, detail=mark) > 0
        claims = self.provider.verify(id_token, now, fresh=not known)
        identity = identity_of(claims, id_token, self.settings)
        expires_at = identity.issued_at + self.session_s
        if now >= expires_at:
            raise SignInRefused("this sign-in has expired; sign in again")
        principal = self.access.provision(identity.name, identity.issuer, identity.subject,
                                          identity.role, identity.groups)  # fmt: skip
        user = principal.owner.removeprefix("user:")  # the bound account's name
        if not known:
            self.access.audit.record(principal.name, "sign_in", user, client, "ok", mark)
        return Session(user, principal, identity.issued_at, expires_at, mark)

    def sign_out(self, session: Session, client: str) -> None:
        self.access.audit.record(session.principal.name, "sign_out", session.user, client,
                                 "ok", session.mark)  # fmt: skip


def open_sign_ins(access: Access, settings: AccessSettings) -> OidcSignIns:
    provider = Provider(settings.oidc_metadata_url, settings.oidc_client_id)
    return OidcSignIns(access, settings, provider)
