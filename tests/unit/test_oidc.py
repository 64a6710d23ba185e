"""`ZHIKU_AUTH=oidc` without a browser: its settings, zhiku's own ID-token check (signature
by a published RS256/ES256 key, issuer, audience, expiry), groups mapped to roles, and
accounts bound to the provider's subject."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from app.auth import Access
from app.auth.oidc import OidcSignIns, Provider, SignInRefused, role_of
from app.settings import SettingsError, load_settings
from tests.oidc_tokens import claims, ec_key, jwks, rsa_key, signed, unsigned

ISSUER = "https://login.example.com"
CLIENT = "zhiku"
KEY = rsa_key("k1")
EC = ec_key("e1")
OTHER = rsa_key("k1")  # same kid, not published
OIDC = {
    "auth": "oidc",
    "oidc_metadata_url": f"{ISSUER}/.well-known/openid-configuration",
    "oidc_client_id": CLIENT,
    "oidc_client_secret": "s3cret-value",
    "oidc_roles": '{"zhiku-admins": "admin", "hr": "editor", "staff": "viewer"}',
}


class FixedProvider(Provider):
    """The provider's documents without HTTP; `fetches` counts key-set fetches."""

    def __init__(self, published: dict[str, Any]) -> None:
        super().__init__(OIDC["oidc_metadata_url"], CLIENT)
        self.published = published
        self.fetches = 0

    def _get(self, url: str) -> dict[str, Any]:
        if url == self.metadata_url:
            return {"issuer": ISSUER, "jwks_uri": f"{ISSUER}/jwks"}
        self.fetches += 1
        return self.published


@pytest.fixture
def provider() -> FixedProvider:
    return FixedProvider(jwks(KEY, EC))


# --- settings ----------------------------------------------------------------------------


def test_oidc_settings_parse_and_check(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, **OIDC).access
    assert settings.oidc_roles == {"zhiku-admins": "admin", "hr": "editor", "staff": "viewer"}
    assert settings.oidc_default_role == "none" and settings.oidc_groups_claim == "groups"
    pairs = load_settings(data_dir=tmp_path, **{**OIDC, "oidc_roles": "a=admin, b=viewer"})
    assert pairs.access.oidc_roles == {"a": "admin", "b": "viewer"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"oidc_metadata_url": "http://login.example.com/x"}, "ZHIKU_OIDC_METADATA_URL: must be"),
        ({"oidc_metadata_url": ""}, "needs ZHIKU_OIDC_METADATA_URL"),
        ({"oidc_client_secret": ""}, "needs ZHIKU_OIDC_CLIENT_SECRET"),
        ({"oidc_roles": "hr:editor"}, "ZHIKU_OIDC_ROLES: use group=role"),
        ({"oidc_roles": '{"hr": "owner"}'}, "ZHIKU_OIDC_ROLES"),
        ({"oidc_redirect_uri": "https://chat.example.com/"}, "must end with /oauth2callback"),
        ({"oidc_cookie_secret": "short"}, "at least 32"),
        ({"oidc_default_role": "admin"}, "ZHIKU_OIDC_DEFAULT_ROLE"),
    ],
)
def test_a_malformed_oidc_setting_is_one_line(tmp_path: Path, change: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message) as raised:
        load_settings(data_dir=tmp_path, **{**OIDC, **change})
    assert "\n" not in str(raised.value) and "short" not in str(raised.value)


def test_loopback_http_is_allowed_for_a_test_provider(tmp_path: Path) -> None:
    for url in ("http://127.0.0.1:9400/.well-known/openid-configuration", "http://[::1]:1/x"):
        assert load_settings(data_dir=tmp_path, **{**OIDC, "oidc_metadata_url": url})


# --- zhiku's own ID-token check ----------------------------------------------------------


def test_a_token_signed_by_a_published_key_passes(provider: FixedProvider) -> None:
    now = time.time()
    assert provider.verify(signed(claims(ISSUER, CLIENT), KEY), now, fresh=True)["sub"] == "alice"
    assert provider.verify(
        signed(claims(ISSUER, [CLIENT, "x"], azp=CLIENT), EC, "ES256"), now, fresh=True
    )


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (unsigned(claims(ISSUER, CLIENT)), "not valid"),
        (unsigned(claims(ISSUER, CLIENT), kid="k1"), "not valid"),
        (signed(claims(ISSUER, "another-app"), KEY), "another application"),
        (signed(claims(ISSUER, [CLIENT, "another-app"]), KEY), "another application"),
        (signed(claims("https://evil.example.com", CLIENT), KEY), "another provider"),
        (signed(claims(ISSUER, CLIENT, iat=1_000, exp=2_000), KEY), "expired"),
        (signed(claims(ISSUER, CLIENT), OTHER), "not valid"),
        (signed(claims(ISSUER, CLIENT, sub=""), KEY), "no subject"),
        ("not.a.token", "malformed|not valid"),
    ],
    ids=[
        "alg-none",
        "alg-none-kid",
        "wrong-aud",
        "two-aud-no-azp",
        "wrong-iss",
        "expired",
        "unpublished-key",
        "no-sub",
        "garbage",
    ],
)
def test_a_forged_token_is_refused(provider: FixedProvider, token: str, reason: str) -> None:
    with pytest.raises(SignInRefused, match=reason):
        provider.verify(token, time.time(), fresh=True)


def test_an_hs256_token_keyed_with_public_material_is_refused(provider: FixedProvider) -> None:
    from joserfc.jwk import OctKey

    shared = OctKey.import_key(b"k" * 64, {"kid": "k1"})
    forged = signed(claims(ISSUER, CLIENT), shared, "HS256")  # type: ignore[arg-type]
    with pytest.raises(SignInRefused, match="not valid"):
        provider.verify(forged, time.time(), fresh=True)


def test_an_unknown_key_id_refetches_the_keys_once(provider: FixedProvider) -> None:
    rotated = rsa_key("k2")
    provider.verify(signed(claims(ISSUER, CLIENT), KEY), time.time(), fresh=True)
    provider.published = jwks(KEY, rotated)
    assert provider.verify(signed(claims(ISSUER, CLIENT), rotated), time.time(), fresh=True)
    assert provider.fetches == 2


# --- roles and accounts ------------------------------------------------------------------


def test_the_highest_mapped_role_wins_and_unmapped_users_get_the_default() -> None:
    roles = {"zhiku-admins": "admin", "hr": "editor", "staff": "viewer"}
    assert role_of(("staff", "hr"), roles, "none") == "editor"  # type: ignore[arg-type]
    assert role_of(("other",), roles, "none") is None  # type: ignore[arg-type]
    assert role_of((), roles, "viewer") == "viewer"  # type: ignore[arg-type]


@pytest.fixture
def sign_ins(tmp_path: Path, provider: FixedProvider) -> OidcSignIns:
    settings = load_settings(data_dir=tmp_path, **OIDC).access
    return OidcSignIns(Access(f"sqlite:///{tmp_path / 'auth.sqlite'}"), settings, provider)


def _token(subject: str = "s-1", **extra: Any) -> str:
    return signed(claims(ISSUER, CLIENT, subject, **extra), KEY)


def test_a_sign_in_makes_the_account_and_its_groups_get_their_grants(sign_ins) -> None:
    access = sign_ins.access
    access.grant("group:hr", "hrdocs", "editor")
    session = sign_ins.accept(_token(preferred_username="ann", groups=["hr", "Ünmapped x"]), "ip")
    assert session.user == "ann" and session.principal.role_on("hrdocs") == "editor"
    assert access.user("ann").groups == ("hr",) and access.user("ann").role == "editor"
    assert session.principal.role_on("wiki") is None
    # the provider moved ann to staff: at the next sign-in she is a viewer, out of hr
    again = sign_ins.accept(_token(preferred_username="ann", groups=["staff"]), "ip")
    assert access.user("ann").role == "viewer" and again.principal.role_on("hrdocs") is None
    assert [e.action for e in access.audit.events()].count("sign_in") == 2
    assert access.sign_in("ann", "") is None  # no password: only the provider signs her in


def test_a_name_is_not_proof(sign_ins) -> None:
    """Another subject calling itself ann, or a local account's name, gets nothing."""
    from tests.unit.test_access import PASSWORD

    sign_ins.accept(_token("s-1", preferred_username="ann", groups=["hr"]), "ip")
    with pytest.raises(SignInRefused, match="another account"):
        sign_ins.accept(_token("s-2", preferred_username="ann", groups=["zhiku-admins"]), "ip")
    sign_ins.access.add_user("root", PASSWORD, "admin")
    with pytest.raises(SignInRefused, match="another account"):
        sign_ins.accept(_token("s-3", preferred_username="root", groups=["staff"]), "ip")
    renamed = sign_ins.accept(_token("s-1", preferred_username="anne", groups=["hr"]), "ip")
    assert renamed.user == "ann"  # the same person at the provider keeps her account


def test_refusals(sign_ins) -> None:
    with pytest.raises(SignInRefused, match="none of your groups"):
        sign_ins.accept(_token(groups=["elsewhere"]), "ip")
    sign_ins.accept(
        _token("s-9", preferred_username="bo", email="bo@example.com", groups=["staff"]), "ip"
    )
    sign_ins.access.set_disabled("bo", True)
    with pytest.raises(SignInRefused, match="disabled"):
        sign_ins.accept(_token("s-9", preferred_username="bo", groups=["staff"]), "ip")
    with pytest.raises(SignInRefused, match="no ID token"):
        sign_ins.accept(None, "ip")
    failed = [e for e in sign_ins.access.audit.events() if e.action == "sign_in.failed"]
    assert len(failed) == 3 and all("eyJ" not in e.detail for e in failed)


def test_a_signed_out_token_replayed_is_refused_and_sessions_expire(sign_ins) -> None:
    token = _token(preferred_username="ann", groups=["staff"])
    session = sign_ins.accept(token, "ip")
    assert sign_ins.accept(token, "ip").principal == session.principal  # another tab
    sign_ins.sign_out(session, "ip")
    with pytest.raises(SignInRefused, match="ended"):
        sign_ins.accept(token, "ip")
    old = int(time.time()) - 13 * 3600
    stale = _token(preferred_username="ann", groups=["staff"], iat=old, exp=old + 300)
    with pytest.raises(SignInRefused, match="expired"):
        sign_ins.accept(stale, "ip")


def test_zhiku_chat_hands_streamlit_its_auth_secrets_in_a_private_file(tmp_path: Path) -> None:
    import stat
    import tomllib

    from app.ui.auth_secrets import write_auth_secrets

    settings = load_settings(data_dir=tmp_path, **{**OIDC, "oidc_client_secret": 'a"b\\c'})
    first = write_auth_secrets(settings)
    auth = tomllib.loads(first.read_text())["auth"]
    assert auth["client_secret"] == 'a"b\\c' and auth["expose_tokens"] == "id"
    assert auth["redirect_uri"] == "http://127.0.0.1:{port}/oauth2callback"
    assert len(auth["cookie_secret"]) >= 32
    for path in (first, tmp_path / "chat-cookie-secret"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = tomllib.loads(write_auth_secrets(settings).read_text())["auth"]
    assert again["cookie_secret"] == auth["cookie_secret"]  # kept per data dir
    chosen = load_settings(data_dir=tmp_path, **{**OIDC, "oidc_cookie_secret": "x" * 40})
    assert (
        tomllib.loads(write_auth_secrets(chosen).read_text())["auth"]["cookie_secret"] == "x" * 40
    )
