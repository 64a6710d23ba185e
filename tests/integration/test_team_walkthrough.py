"""Issue 24's team walkthrough in a real browser (Debian's chromium, Playwright) against a
real `zhiku chat` and a real `zhiku serve` with `ZHIKU_AUTH=local` on one data folder.

The only account made outside the browser is the admin's (`zhiku users add … --password-
stdin`). In the chat the admin creates two knowledge bases and uploads into each; on the
admin page adds alice (editor in A) and bob (viewer in B) and a key for A with scope
`ask`. alice sees only A and uploads there; bob sees only B, without an uploader; neither
has the admin page, even at its address. The key reaches A through `/v1/retrieve` and
gets 404 for B; the admin revokes it and the next request is 401. The audit page shows
every change, and its CSV is the CLI's. Last the admin makes bob an editor in the group
eng, sets his password and disables him (the Users tab's forms): he cannot sign in.
Nothing asks the model: llama.cpp never loads.
With ADMIN_SCREENSHOT set the admin page is saved there (`make screenshot`).
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from app.auth import open_access
from app.settings import load_settings
from tests.helpers import (
    MODELS_DIR,
    fill_kept,
    knowledge_base_options,
    settled,
    sign_in,
    start_chat,
    start_serve,
    zhiku,
)

PASSWORD = "a long team password"
ROOT_PASSWORD = "the admin's long password"
NEW_PASSWORD = "bob's new long password"
A, B = "人事制度", "工程文档"
TEXTS = {
    A: "年假为每年十五天，由直属经理审批。",
    B: "代码评审至少需要两位同事通过。",
    "alice": "试用期为三个月，转正需要述职。",
}
SCREENSHOT_ENV = "ADMIN_SCREENSHOT"


@pytest.fixture(scope="module")
def team_chat(tmp_path_factory: pytest.TempPathFactory, embedding_cache_root: Path):
    """An empty data folder with accounts on, one admin (root) made by the CLI, and
    `zhiku chat` on it; no samples (the admin starts from nothing)."""
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("team-data"), cache_dir=embedding_cache_root,
        models_dir=MODELS_DIR, embedding_backend="use", auth="local",
        first_start_samples=False,
    )  # fmt: skip
    added = zhiku(settings, "users", "add", "root", "--role", "admin", "--password-stdin",
                  stdin=f"{ROOT_PASSWORD}\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    logs = tmp_path_factory.mktemp("team-logs")
    proc, url = start_chat(settings, logs / "chat.log")
    try:
        yield url, settings, logs
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert "Traceback" not in (logs / "chat.log").read_text(errors="replace")


def _open(browser, url: str, name: str, password: str, path: str = ""):
    page = browser.new_page(locale="en-US", viewport={"width": 1280, "height": 900})
    page.set_default_timeout(120_000)  # two shared cores: a run that loads a model is slow
    page.goto(url + path)
    sign_in(page, name, password)
    page.get_by_test_id("stSidebarNav").wait_for()
    return page


def _go(page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    page.get_by_test_id("stHeading").filter(has_text=title).first.wait_for()
    settled(page, start_ms=1000)  # the heading may be the last run's: wait for this one


def _choose(page, key: str, option: str | re.Pattern) -> None:
    """Pick `option` in the selectbox or multiselect with widget key `key`. A run that ends
    just after the click can redraw the list closed: then it is opened again."""
    box = page.locator(f".st-key-{key} input[role=combobox]")
    wanted = page.get_by_role("option", name=option, exact=isinstance(option, str))
    box.click()
    for _attempt in range(3):
        try:
            wanted.click(timeout=10_000)
            return
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            box.press("ArrowDown")  # (the box keeps the focus: a click would not open it)
    wanted.click()


# the last widget each tab draws: the tab's run is over when it is there
TAB_ENDS = {"Users": "admin_user", "Grants": "admin_grant", "API keys": "admin_create_key",
            "Audit trail": "admin_audit_csv"}  # fmt: skip


def _tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()
    page.locator(f".st-key-{TAB_ENDS[name]}").wait_for()
    settled(page)  # the tabs after this one are still being drawn


def _expand(page, label: str, inside) -> None:
    """Open an expander unless it is open already (its state outlives a rerun)."""
    page.get_by_text(label, exact=True).wait_for()
    page.wait_for_timeout(500)  # the run draws the expander before its content
    if not inside.is_visible():
        page.get_by_text(label, exact=True).click()


def _create_and_fill(page, name: str, file: Path) -> None:
    """Knowledge bases page: a new knowledge base (it becomes the chosen one), one file."""
    _go(page, "Knowledge bases")
    form = page.get_by_test_id("stForm").filter(
        has=page.get_by_role("button", name="Create", exact=True)
    )
    _expand(page, "New knowledge base", form.get_by_role("textbox").first)
    fill_kept(page, form.get_by_role("textbox").first, name)
    form.get_by_role("button", name="Create", exact=True).click()
    page.get_by_text(f"Knowledge base {name} created.").wait_for()
    _upload(page, file)


def _upload(page, file: Path) -> None:
    page.get_by_test_id("stFileUploaderDropzoneInput").first.set_input_files(str(file))
    page.locator(".st-key-ingest_uploads button").click()
    page.get_by_text("indexed 1").first.wait_for(timeout=300_000)
    page.locator(".st-key-ingest_uploads").wait_for(state="detached")  # the uploader emptied
    settled(page)


def _add_user(page, name: str, role: str) -> None:
    _tab(page, "Users")
    _expand(page, "Add a user", page.locator(".st-key-admin_new_name input"))
    page.locator(".st-key-admin_new_name input").fill(name)
    _choose(page, "admin_new_role", role)
    page.locator(".st-key-admin_new_password input").fill(PASSWORD)
    page.locator(".st-key-admin_new_again input").fill(PASSWORD)
    page.get_by_role("button", name="Add user").click()
    page.get_by_text(f"User {name} added.").wait_for()


def _grant(page, user: str, base: str, role: str) -> None:
    _tab(page, "Grants")
    _choose(page, "admin_grant_kb", base)
    _choose(page, "admin_grant_user", user)
    _choose(page, "admin_grant_role", role)
    page.locator(".st-key-admin_grant button").click()
    page.get_by_text(f"user:{user} is {role} in {base}.").wait_for()


def _create_key(page, service: str, base: str) -> str:
    """A key for `service` in `base` with the default scope (ask); its secret, shown once."""
    _tab(page, "API keys")
    page.locator(".st-key-admin_key_owner_kind").get_by_text("A service").click()
    page.locator(".st-key-admin_key_service input").fill(service)
    page.locator(".st-key-admin_key_service input").press("Enter")
    _choose(page, "admin_key_kbs", base)
    page.keyboard.press("Escape")
    page.locator(".st-key-admin_create_key button").click()
    page.get_by_text("Copy the key now: it will not be shown again.").wait_for()
    return page.get_by_test_id("stCode").locator("code").inner_text().strip()


def _revoke(page, prefix: str) -> None:
    _tab(page, "API keys")
    _choose(page, "admin_revoke_key", re.compile(f"^{prefix} "))
    page.get_by_role("button", name="Revoke this key").click()
    page.locator(".st-key-admin_revoke_it button").click()
    page.get_by_text(f"Key {prefix} revoked.").wait_for()


def _no_admin_page(page, url: str, name: str) -> None:
    """Not in the navigation, and its address opens nothing of it."""
    assert page.get_by_test_id("stSidebarNav").get_by_role("link", name="Admin").count() == 0
    direct = _open(page.context.browser, url, name, PASSWORD, "admin")
    direct.get_by_test_id("stChatInputTextArea").wait_for()  # the default page instead
    direct.wait_for_timeout(2000)
    assert direct.get_by_role("tab", name="API keys").count() == 0
    assert direct.get_by_text("Add a user").count() == 0
    direct.close()


def _retrieve(url: str, secret: str, base: str) -> httpx.Response:
    query = {"knowledge_base": base, "query": "年假有几天？"}
    bearer = {"Authorization": f"Bearer {secret}"}
    return httpx.post(f"{url}/v1/retrieve", headers=bearer, json=query, timeout=300)


def test_a_team_is_set_up_and_used_in_the_browser(team_chat, browser, tmp_path: Path) -> None:
    url, settings, logs = team_chat
    files = {}
    for name, text in TEXTS.items():
        files[name] = tmp_path / f"{name}.txt"
        files[name].write_text((text + "\n") * 3, encoding="utf-8")

    # the admin: two knowledge bases, two users with different grants, a key for A
    admin = _open(browser, url, "root", ROOT_PASSWORD)
    _create_and_fill(admin, A, files[A])
    _create_and_fill(admin, B, files[B])
    _go(admin, "Admin")
    _add_user(admin, "alice", "editor")
    _add_user(admin, "bob", "viewer")
    roles = {user.name: user.role for user in open_access(settings).list_users()}
    assert roles == {"root": "admin", "alice": "editor", "bob": "viewer"}, roles
    _grant(admin, "alice", A, "editor")
    _grant(admin, "bob", B, "viewer")
    secret = _create_key(admin, "hr-bot", A)
    assert re.fullmatch(r"zk_[a-z0-9]{8}_\S{43}", secret), secret
    prefix = secret.split("_")[1]
    _tab(admin, "Users")
    if shot := os.environ.get(SCREENSHOT_ENV):
        admin.screenshot(path=shot, full_page=True)

    # alice: only A, where she uploads
    alice = _open(browser, url, "alice", PASSWORD)
    assert knowledge_base_options(alice) == [A]
    _go(alice, "Knowledge bases")
    _upload(alice, files["alice"])
    _no_admin_page(alice, url, "alice")
    alice.close()

    # bob: only B, no uploader
    bob = _open(browser, url, "bob", PASSWORD)
    assert knowledge_base_options(bob) == [B]
    _go(bob, "Knowledge bases")
    bob.get_by_text("You may ask here; an editor adds and removes documents.").wait_for()
    assert bob.get_by_test_id("stFileUploader").count() == 0
    _no_admin_page(bob, url, "bob")
    bob.close()

    # the key: A through the API, not B; revoked on the admin page, refused at once
    server = start_serve(settings, logs / "serve")
    try:
        reached = _retrieve(server.url, secret, A)
        assert reached.status_code == 200, reached.text
        assert "十五天" in reached.text
        assert _retrieve(server.url, secret, B).status_code == 404
        _revoke(admin, prefix)
        assert secret not in admin.content()  # shown once, in the run that made it
        assert _retrieve(server.url, secret, A).status_code == 401
    finally:
        assert "Traceback" not in server.stop()

    # the audit page: every change, by whom and from where; its CSV is the CLI's
    _tab(admin, "Audit trail")
    _choose(admin, "admin_audit_action", "kb.upload")
    admin.get_by_text("The newest 3 events, newest first.").wait_for()  # root's 2, alice's
    admin.locator(".st-key-admin_audit_who input").fill("alice")
    admin.locator(".st-key-admin_audit_who input").press("Enter")
    admin.get_by_text("The newest 1 events, newest first.").wait_for()
    admin.wait_for_timeout(2000)  # the button of the run before the filter points at a freed file
    with admin.expect_download() as download:
        admin.get_by_role("button", name="Download the whole trail (CSV)").click()
    exported = Path(download.value.path()).read_text(encoding="utf-8")
    assert exported == zhiku(settings, "audit", "export", "--csv").stdout
    expected = [
        ("user:root", "kb.create", A), ("user:root", "kb.upload", A),
        ("user:root", "user.add", "alice"), ("user:root", "user.add", "bob"),
        ("user:root", "grant.add", f"user:alice {A}"), ("user:root", "grant.add", f"user:bob {B}"),
        ("user:root", "key.create", prefix), ("user:alice", "kb.upload", A),
        ("user:root", "key.revoke", prefix),
    ]  # fmt: skip
    rows = [row[1:4] for row in csv.reader(io.StringIO(exported))]
    for event in expected:
        assert list(event) in rows, event
    clients = {row[4] for row in csv.reader(io.StringIO(exported)) if row[1] == "user:alice"}
    assert clients == {"127.0.0.1"}, clients  # from where: this machine's browser
    assert secret not in exported and PASSWORD not in exported and ROOT_PASSWORD not in exported

    # the admin changes bob: editor in the group eng, a new password, then disabled
    _change_bob(admin)
    access = open_access(settings)
    changed = access.user("bob")
    assert (changed.role, changed.groups, changed.disabled) == ("editor", ("eng",), True)
    refused = browser.new_page(locale="en-US")
    refused.goto(url)
    sign_in(refused, "bob", NEW_PASSWORD)  # the new password, but disabled
    refused.get_by_text("Wrong name or password.").wait_for()
    refused.close()
    admin.close()
    access.set_disabled("bob", False)  # then the new password is the one that opens
    assert access.sign_in("bob", NEW_PASSWORD) is not None
    assert access.sign_in("bob", PASSWORD) is None


def _change_bob(admin) -> None:
    """The Users tab's forms for one chosen user, clicked as an admin would."""
    _tab(admin, "Users")
    _choose(admin, "admin_user", "bob")
    admin.locator(".st-key-admin_role_bob").wait_for()
    settled(admin)
    _choose(admin, "admin_role_bob", "editor")
    admin.locator(".st-key-admin_groups_bob input").fill("eng")
    admin.get_by_role("button", name="Save role and groups").click()
    admin.get_by_text("bob changed.").wait_for()
    settled(admin)
    admin.locator(".st-key-admin_set_password input").fill(NEW_PASSWORD)
    admin.locator(".st-key-admin_set_again input").fill(NEW_PASSWORD)
    admin.get_by_role("button", name="Set password").click()
    admin.get_by_text("Password of bob set.").wait_for()
    settled(admin)
    admin.locator(".st-key-admin_disable_bob button").click()
    admin.get_by_text("bob disabled.").wait_for()
