"""Issue 22, low items: knowledge-base names checked once; settings read forgivingly and
refused in one line.

Before the fix `a..b` was a 500 with two tracebacks (the CLI printed 94 lines), 300- and
512-character names were created (201) and every later upload into them failed (`File
name too long`), and `ZHIKU_API_KEYS=sk-abc` (a plain key) made `zhiku serve` print a
30-line traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.helpers import free_port, serving, settings_env, zhiku
from tests.security.conftest import Server

BAD_NAMES = ["a..b", "x" * 300, "x" * 512, "../up", "a/b"]


def _one_line_error(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in text, text
    return lines[0]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_bad_knowledge_base_name_is_one_line_400(keyless: Server, name: str) -> None:
    reply = httpx.post(f"{keyless.url}/v1/knowledge_bases", json={"name": name}, timeout=60)
    assert reply.status_code == 400, reply.text
    message = reply.json()["error"]["message"]
    assert "\n" not in message and "invalid" in message
    assert name not in [
        kb["name"] for kb in httpx.get(f"{keyless.url}/v1/knowledge_bases").json()["data"]
    ]


def test_a_chinese_name_is_a_knowledge_base_that_takes_uploads(keyless: Server) -> None:
    name = "法律资料-2024"
    reply = httpx.post(f"{keyless.url}/v1/knowledge_bases", json={"name": name}, timeout=120)
    assert reply.status_code == 201, reply.text
    listed = httpx.get(f"{keyless.url}/v1/knowledge_bases").json()["data"]
    assert name in [kb["name"] for kb in listed]
    assert "zhiku/" + name in [
        m["id"] for m in httpx.get(f"{keyless.url}/v1/models").json()["data"]
    ]
    files = {"files": ("合同.txt", "合同说明：租期三年。".encode(), "text/plain")}
    upload = httpx.post(f"{keyless.url}/v1/knowledge_bases/{name}/documents", files=files)
    assert upload.status_code == 202, upload.text


@pytest.mark.parametrize("name", ["a..b", "x" * 300])
def test_the_cli_refuses_a_bad_name_in_one_line(samples_settings, tmp_path, name: str) -> None:
    (tmp_path / "a.txt").write_text("内容。", encoding="utf-8")
    done = zhiku(samples_settings, "ingest", str(tmp_path), "--collection", name, timeout=120)
    assert done.returncode == 1
    assert "invalid" in _one_line_error(done.stderr)


def _run(settings, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).with_name("zhiku")), *args],
        env={**settings_env(settings), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


COMMANDS = [("serve", "--port", str(free_port())), ("chat",), ("ask", "问题"), ("ingest", "--list")]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ZHIKU_API_KEYS", '["sk-secret-1", '),
        ("ZHIKU_TOP_K", "many"),
        ("ZHIKU_STOP_SEQUENCES", "[x"),
    ],
)
def test_a_malformed_setting_is_one_line_naming_it(samples_settings, command, variable, value):
    done = _run(samples_settings, *command, **{variable: value})
    assert done.returncode != 0
    line = _one_line_error(done.stderr)
    assert variable in line and "sk-secret-1" not in line


def test_serve_takes_a_plain_key(samples_settings, tmp_path) -> None:
    with serving(samples_settings, tmp_path, ZHIKU_API_KEYS="sk-abc") as served:
        assert httpx.get(f"{served.url}/v1/models").status_code == 401
        keyed = httpx.get(f"{served.url}/v1/models", headers={"Authorization": "Bearer sk-abc"})
        assert keyed.status_code == 200
    assert "sk-abc" not in served.log.read_text()
