"""Issue 22, low items on uploads: two files with one name, and a full disk.

Before the fix two `same.txt` (or `café` in NFC and NFD) of one request replaced each
other while both reported `saved`, and a full disk was a 500."""

from __future__ import annotations

import os
import subprocess
import unicodedata

import httpx
import pytest

from tests.security.conftest import Server, start


def test_two_files_with_one_name_do_not_silently_replace_each_other(keyless: Server) -> None:
    cafe_nfc, cafe_nfd = (unicodedata.normalize(f, "café.txt") for f in ("NFC", "NFD"))
    assert cafe_nfc != cafe_nfd
    files = [
        ("files", ("same.txt", "第一份文件。".encode())),
        ("files", ("same.txt", "第二份文件。".encode())),
        ("files", (cafe_nfc, "咖啡一。".encode())),
        ("files", (cafe_nfd, "咖啡二。".encode())),
    ]
    reply = httpx.post(f"{keyless.url}/v1/knowledge_bases/samples/documents", files=files).json()
    assert reply["saved"] == ["same.txt", cafe_nfc], reply
    assert [r["file"] for r in reply["refused"]] == ["same.txt", cafe_nfd]
    assert all("same name" in r["reason"] for r in reply["refused"])
    folder = keyless.settings.storage.uploads_dir / "samples"
    assert (folder / "same.txt").read_text(encoding="utf-8") == "第一份文件。"
    again = httpx.post(
        f"{keyless.url}/v1/knowledge_bases/samples/documents",
        files=[("files", ("same.txt", "更新后的文件。".encode()))],
    ).json()
    assert again["saved"] == ["same.txt"] and again["replaced"] == ["same.txt"]
    for name in ("same.txt", cafe_nfc):
        httpx.delete(f"{keyless.url}/v1/knowledge_bases/samples/documents/{name}")


@pytest.mark.skipif(os.geteuid() != 0, reason="a small full file system needs mount (root)")
def test_a_full_disk_is_one_line_not_a_500(make_settings, tmp_path) -> None:
    settings = make_settings()
    uploads = settings.storage.uploads_dir
    uploads.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(uploads)],
                             capture_output=True, text=True)  # fmt: skip
    if mounted.returncode:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    server = None
    try:
        server = start(settings, tmp_path / "full")
        httpx.post(f"{server.url}/v1/knowledge_bases", json={"name": "full"})
        reply = httpx.post(
            f"{server.url}/v1/knowledge_bases/full/documents",
            files=[("files", ("big.txt", "满".encode() * 600_000))],  # 1.8 MB > 1 MB
            timeout=60,
        )
        assert reply.status_code == 202, reply.text
        refused = reply.json()["refused"]
        assert len(refused) == 1 and "disk full" in refused[0]["reason"], refused
        assert "\n" not in refused[0]["reason"] and reply.json()["job"] is None
        assert not [p for p in uploads.rglob("*") if p.is_file()]  # no partial file left
    finally:
        err = server.stop() if server else ""
        subprocess.run(["umount", str(uploads)], check=False)
    assert "Traceback" not in err, err
