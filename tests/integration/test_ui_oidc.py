"""The chat's sign-in with `ZHIKU_AUTH=oidc` in a real browser (chromium, Playwright)
against a real `zhiku chat` and a real OpenID provider on 127.0.0.1 (`oidc-provider-mock`,
started by the test with two people: ada in readers and zhiku-admins, so the higher role
wins; vic in readers). Each signs in through the provider's page and sees what the
role allows; a sign-out ends the
sign-in, and its cookie, replayed, opens nothing (issue 24)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.auth import open_access
from tests.helpers import (
    MODELS_DIR,
    chat_server,
    chromium,
    free_port,
    knowledge_base_options,
    wait_for_http,
)

PEOPLE = [
    {"sub": "ada-0001", "preferred_username": "ada", "groups": ["readers", "zhiku-admins"]},
    {"sub": "vic-0002", "preferred_username": "vic", "groups": ["readers", "not-mapped"]},
]
ROLES = {"zhiku-admins": "admin", "readers": "viewer"}


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`oidc-provider-mock` on a free loopback port; its base URL."""
    port = free_port()
    users = [item for person in PEOPLE for item in ("--user-claims", json.dumps(person))]
    log = tmp_path_factory.mktemp("provider") / "provider.log"
    script = Path(sys.executable).with_name("oidc-provider-mock")
    proc = subprocess.Popen(
        [str(script), "--port", str(port), *users], stdout=subprocess.DEVNULL, stderr=log.open("w")
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{base}/.well-known/openid-configuration", proc, timeout=60)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def oidc_chat(provider: str, tmp_path_factory: pytest.TempPathFactory, embedding_cache_root):
    from app.settings import load_settings
    from ingest.indexing import ingest_paths, open_knowledge_base

    corpus = tmp_path_factory.mktemp("corpus")
    (corpus / "手册.txt").write_text("知库的吉祥物是一只穿山甲，名叫阿盾。\n" * 3, encoding="utf-8")
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("oidc-data"),
        cache_dir=embedding_cache_root,
        models_dir=MODELS_DIR,
        embedding_backend="use",
        collection="handbook",
        sample_corpus=corpus,
        auth="oidc",
        oidc_metadata_url=f"{provider}/.well-known/openid-configuration",
        oidc_client_id="zhiku-chat",
        oidc_client_secret="a client secret of the test",
        oidc_roles=json.dumps(ROLES),
    )
    secret = tmp_path_factory.mktemp("secret")
    (secret / "薪酬.txt").write_text("二〇二六年的调薪幅度是百分之四。\n" * 3, encoding="utf-8")
    assert ingest_paths(open_knowledge_base(settings, "salaries"), [secret]).ok
    open_access(settings).grant("group:readers", "handbook", "viewer")
    logs = tmp_path_factory.mktemp("logs")
    with chat_server(settings, logs) as url:
        yield url, settings
    assert "a client secret of the test" not in (logs / "chat.log").read_text(errors="replace")


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


def _new_page(browser):
    page = browser.new_page(locale="en-US")
    page.route("https://cdn.jsdelivr.net/**", lambda route: route.abort())  # offline: no CSS
    return page


def sign_in_as(page, url: str, person: str) -> None:
    """Through the provider's page, as a person would; waits for the chat."""
    page.goto(url)
    page.get_by_role("button", name="Sign in with your organisation").click(timeout=120_000)
    page.get_by_role("button", name=person, exact=True).click(timeout=60_000)
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=300_000)


def test_each_person_signs_in_through_the_provider_and_gets_their_groups_role(
    oidc_chat, browser
) -> None:
    url, settings = oidc_chat
    vic = _new_page(browser)
    vic.goto(url)
    vic.get_by_text("Sign in to zhiku").wait_for(timeout=120_000)
    assert vic.get_by_test_id("stChatInputTextArea").count() == 0
    sign_in_as(vic, url, "vic-0002")
    vic.get_by_text("Signed in as vic").wait_for()
    assert knowledge_base_options(vic) == ["handbook"]
    vic.get_by_role("link", name="Knowledge bases").click()
    vic.get_by_text("You may ask here; an editor adds and removes documents.").wait_for(
        timeout=120_000
    )
    assert vic.get_by_text("New knowledge base").count() == 0
    vic.close()
    ada = _new_page(browser)
    sign_in_as(ada, url, "ada-0001")
    ada.get_by_text("Signed in as ada").wait_for()
    assert knowledge_base_options(ada) == ["handbook", "salaries"]
    ada.get_by_role("link", name="Knowledge bases").click()
    ada.get_by_text("New knowledge base").wait_for(timeout=120_000)
    ada.close()
    access = open_access(settings)
    assert access.user("ada").role == "admin"
    assert access.user("vic").groups == ("not-mapped", "readers")
    sign_ins = [e for e in access.audit.events() if e.action == "sign_in"]
    assert sorted(e.target for e in sign_ins) == ["ada", "vic"]
    assert "a client secret of the test" not in access.audit.export_csv()


def test_a_signed_out_cookie_replayed_opens_nothing(oidc_chat, browser) -> None:
    url, settings = oidc_chat
    page = _new_page(browser)
    sign_in_as(page, url, "vic-0002")
    cookies = page.context.cookies()
    assert any(cookie["name"].startswith("_streamlit_user") for cookie in cookies)
    page.get_by_role("button", name="Sign out").click()
    # Streamlit sends the browser on to the provider's end of session (RP-initiated logout)
    page.get_by_role("button", name="End session").click(timeout=60_000)
    page.get_by_role("button", name="Sign in with your organisation").wait_for(timeout=60_000)
    assert page.get_by_test_id("stChatInputTextArea").count() == 0
    page.close()
    thief = _new_page(browser)
    thief.context.add_cookies(cookies)
    thief.goto(url)
    thief.get_by_text("this sign-in has ended").wait_for(timeout=120_000)
    assert thief.get_by_test_id("stChatInputTextArea").count() == 0
    assert thief.get_by_text("Signed in as").count() == 0
    thief.close()
    assert any(e.action == "sign_out" for e in open_access(settings).audit.events())


def test_a_disabled_account_stays_out(oidc_chat, browser) -> None:
    """Disabling ada in zhiku ends her open sign-in at her next click, and a new sign-in
    through the provider is refused, whatever the provider says."""
    url, settings = oidc_chat
    page = _new_page(browser)
    sign_in_as(page, url, "ada-0001")
    access = open_access(settings)
    access.add_user("keeper", "a long keeper password", "admin")  # not the last admin
    access.set_disabled("ada", True)
    try:
        page.get_by_role("link", name="Knowledge bases").click()
        page.get_by_text("Your sign-in has ended").wait_for(timeout=120_000)
        assert page.get_by_test_id("stChatInputTextArea").count() == 0
        page.close()
        again = _new_page(browser)
        again.goto(url)
        again.get_by_role("button", name="Sign in with your organisation").click(timeout=120_000)
        again.get_by_role("button", name="ada-0001", exact=True).click(timeout=60_000)
        again.get_by_text("is disabled").wait_for(timeout=120_000)
        assert again.get_by_test_id("stChatInputTextArea").count() == 0
        again.close()
    finally:
        open_access(settings).set_disabled("ada", False)
