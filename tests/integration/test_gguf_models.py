"""The chat models are assembled from its PyPI parts, verified, and never half-written."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from app.models.gguf import (
    KNOWN_MODELS,
    GGUFSpec,
    ModelFileError,
    assemble,
    gguf_metadata,
    resolve_model_path,
)
from tests.helpers import DEFAULT_MODEL, FAST_MODEL, zhiku


@pytest.mark.parametrize(
    ("model", "name"),
    [(DEFAULT_MODEL, "Qwen2.5 Coder 1.5B Instruct"), (FAST_MODEL, "Qwen2.5 Coder 0.5B Instruct")],
)
def test_both_models_are_assembled_verified_and_named(make_settings, model, name) -> None:
    path = resolve_model_path(make_settings(llm_model=model))
    spec = KNOWN_MODELS[model]
    assert path.name == spec.filename and path.stat().st_size == spec.size
    assert gguf_metadata(path)["general.name"].startswith(name)
    assert not list(path.parent.glob(".*.tmp"))  # no temporary file left behind


def test_tampered_model_is_detected_and_rebuilt(tmp_path: Path) -> None:
    spec = KNOWN_MODELS["qwen2.5-coder-0.5b"]
    path = assemble(spec, tmp_path)
    with open(path, "r+b") as handle:  # corrupt one byte, as a bad disk or copy would
        handle.seek(1000)
        handle.write(b"\xff")
    rebuilt = assemble(spec, tmp_path)
    digest = hashlib.sha256(rebuilt.read_bytes()).hexdigest()
    assert digest == spec.sha256


def test_wrong_checksum_never_leaves_a_model_in_place(tmp_path: Path) -> None:
    good = KNOWN_MODELS["qwen2.5-coder-0.5b"]
    wrong = GGUFSpec(**{**good.__dict__, "sha256": "0" * 64})
    with pytest.raises(ModelFileError, match="sha256"):
        assemble(wrong, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_missing_parts_say_how_to_install_them(tmp_path: Path) -> None:
    missing = GGUFSpec("x.gguf", "zhiku_no_such_part", "no-such-part", 2, "1.0", None)
    with pytest.raises(ModelFileError, match="pip install no-such-part"):
        assemble(missing, tmp_path)


def test_unknown_model_setting_is_one_clear_error(make_settings, tmp_path: Path) -> None:
    settings = make_settings(llm_model=str(tmp_path / "nope.gguf"))
    with pytest.raises(ModelFileError, match="ZHIKU_LLM_MODEL"):
        resolve_model_path(settings)
    result = zhiku(settings, "model")
    assert result.returncode == 1 and "ZHIKU_LLM_MODEL" in result.stderr
    assert "Traceback" not in result.stderr
