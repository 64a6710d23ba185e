"""Forged OpenID tokens against a real `zhiku chat` (`ZHIKU_AUTH=oidc`) in a real
browser, and a forged JWT against a real `zhiku serve` (issue 24).

A hostile provider on 127.0.0.1 (http.server, started here) serves discovery, a JWKS,
an authorize endpoint that sends the browser straight back, and a token endpoint that
answers with a forged ID token: `alg: none`, another audience, expired, signed by a key
it does not publish — each must leave the browser with nothing of the chat.

Two forgeries get past Streamlit and Authlib (found here, so zhiku checks the ID token
itself, app/auth/oidc.py): Authlib accepts any algorithm the provider's metadata lists,
`none` included; and with no ID token in the token response, Streamlit signs in whatever
`userinfo` object the response carries, unchecked.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.helpers import MODELS_DIR, chat_server, chromium
from tests.oidc_tokens import claims, jwks, rsa_key, signed, unsigned
from tests.security.conftest import start

CLIENT = "zhiku-chat"
PUBLISHED = rsa_key("key-1")
UNPUBLISHED = rsa_key("key-1")  # the same key id, not in the JWKS
GROUPS = {"groups": ["zhiku-admins"], "preferred_username": "mallory"}


def _id_token(mode: str, issuer: str, nonce: str) -> str | None:
    good = claims(issuer, CLIENT, "mallory-1", nonce=nonce, **GROUPS)
    expired = {**good, "iat": good["iat"] - 7200, "exp": good["iat"] - 3600}
    return {
        "good": lambda: signed(good, PUBLISHED),
        "alg-none": lambda: unsigned(good, kid="key-1"),
        "alg-none-advertised": lambda: unsigned(good, kid="key-1"),
        "wrong-audience": lambda: signed({**good, "aud": "another-app"}, PUBLISHED),
        "expired": lambda: signed(expired, PUBLISHED),
        "unpublished-key": lambda: signed(good, UNPUBLISHED),
        "userinfo-without-id-token": lambda: None,
    }[mode]()


class Hostile(BaseHTTPRequestHandler):
    mode: ClassVar[str] = "good"
    nonces: ClassVar[dict[str, str]] = {}  # code -> nonce of its authorize request

    def log_message(self, *args: Any) -> None:
        pass

    def _json(self, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        if url.path == "/.well-known/openid-configuration":
            algs = ["RS256", "none"] if Hostile.mode == "alg-none-advertised" else ["RS256"]
            self._json(
                {
                    "issuer": self.base,
                    "authorization_endpoint": f"{self.base}/authorize",
                    "token_endpoint": f"{self.base}/token",
                    "jwks_uri": f"{self.base}/jwks",
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": algs,
                }
            )
        elif url.path == "/jwks":
            self._json(jwks(PUBLISHED))
        elif url.path == "/authorize":  # no page: straight back with a code
            code = f"code-{len(Hostile.nonces)}"
            Hostile.nonces[code] = query.get("nonce", "")
            back = urlencode({"code": code, "state": query.get("state", "")})
            self.send_response(302)
            self.send_header("Location", f"{query['redirect_uri']}?{back}")
            self.end_headers()
        else:
            self.send_error(404)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        token = _id_token(Hostile.mode, self.base, Hostile.nonces.get(form.get("code", ""), ""))
        body: dict[str, Any] = {"access_token": "at-1", "token_type": "Bearer", "expires_in": 300}
        if token is None:
            body["userinfo"] = {"sub": "mallory-1", "iss": self.base, **GROUPS}
        else:
            body["id_token"] = token
        self._json(body)


@pytest.fixture(scope="module")
def hostile() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def chat(hostile: str, tmp_path_factory: pytest.TempPathFactory, embedding_cache_root: Path):
    from app.settings import load_settings

    corpus = tmp_path_factory.mktemp("corpus")
    (corpus / "机密.txt").write_text("只有签到的人才能看到这一句。\n" * 3, encoding="utf-8")
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("forged-data"),
        cache_dir=embedding_cache_root,
        models_dir=MODELS_DIR,
        embedding_backend="use",
        collection="secrets",
        sample_corpus=corpus,
        auth="oidc",
        oidc_client_id=CLIENT,
        oidc_metadata_url=f"{hostile}/.well-known/openid-configuration",
        oidc_client_secret="the hostile test's client secret",
        oidc_roles='{"zhiku-admins": "admin"}',
    )
    with chat_server(settings, tmp_path_factory.mktemp("logs")) as url:
        yield url, settings


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


def _through_the_provider(browser, url: str, mode: str):
    """A fresh browser signs in while the provider answers with `mode`; the page after."""
    Hostile.mode = mode
    page = browser.new_page(locale="en-US")
    page.goto(url)
    button = page.get_by_role("button", name="Sign in with your organisation")
    button.wait_for(timeout=120_000)
    with page.expect_navigation(url=url, timeout=120_000):  # back from the callback
        button.click()
    page.get_by_text(
        re.compile("Signed in as|was not accepted|Sign in with your organisation")
    ).first.wait_for(timeout=120_000)
    page.wait_for_timeout(1_000)  # the page's last run settles
    return page


def test_the_hostile_provider_can_sign_in_with_a_good_token(chat, browser) -> None:
    """The control: a correctly signed token opens the chat (the refusals below are the
    forgeries', not a broken setup's)."""
    url, _settings = chat
    page = _through_the_provider(browser, url, "good")
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=300_000)
    page.get_by_text("Signed in as mallory").wait_for()
    page.close()


@pytest.mark.parametrize(
    ("mode", "streamlit_took_it"),
    [
        ("alg-none", False),
        ("wrong-audience", False),
        ("expired", False),
        ("unpublished-key", False),
        ("alg-none-advertised", True),  # Authlib trusts the metadata's algorithm list
        ("userinfo-without-id-token", True),  # Streamlit signs in the raw `userinfo`
    ],
)
def test_a_forged_token_opens_nothing(chat, browser, mode: str, streamlit_took_it: bool) -> None:
    url, settings = chat
    page = _through_the_provider(browser, url, mode)
    assert page.get_by_test_id("stChatInputTextArea").count() == 0
    assert page.get_by_text("Signed in as").count() == 0
    cookie = any(c["name"].startswith("_streamlit_user") for c in page.context.cookies())
    assert cookie == streamlit_took_it, (
        f"{mode}: Streamlit's cookie {'set' if cookie else 'not set'}"
    )
    if streamlit_took_it:  # zhiku's own check is what stopped it, and says so
        page.get_by_text("was not accepted").wait_for()
    page.close()
    if streamlit_took_it:
        from app.auth import open_access

        refused = [e for e in open_access(settings).audit.events() if e.action == "sign_in.failed"]
        assert refused and "eyJ" not in refused[-1].detail  # the reason, never the token


def test_the_api_refuses_a_forged_jwt(chat, tmp_path: Path) -> None:
    """`zhiku serve` takes zhiku keys only: a JWT, unsigned or not, is a 401."""
    _url, settings = chat
    server = start(settings, tmp_path / "serve")
    try:
        forged = unsigned(claims("http://127.0.0.1", CLIENT, "mallory-1", **GROUPS))
        for token in (forged, signed(claims("http://127.0.0.1", CLIENT), PUBLISHED)):
            bearer = {"Authorization": f"Bearer {token}"}
            answer = httpx.get(f"{server.url}/v1/models", headers=bearer, timeout=30)
            assert answer.status_code == 401, answer.text
            assert "mallory" not in answer.text
    finally:
        server.stop()
