"""zhiku's settings: sections read from the environment and `.env` (prefix `ZHIKU_`).

`settings.retrieval.top_k` is `ZHIKU_TOP_K`: each section (app/settings/sections.py) holds
its own defaults, and every variable keeps the flat name it always had. Every knob is
documented in `.env.example`. A wrong value, or a `ZHIKU_*` variable zhiku does not know,
is one line naming the variable (see `load_settings`).
"""

from __future__ import annotations

import difflib
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from dotenv import dotenv_values
from pydantic import AliasChoices, BaseModel, SecretStr, ValidationError
from pydantic_settings import SettingsError as UnparsableSetting

from app.settings.access import AccessSettings
from app.settings.rules import (
    MAX_NAME_CHARS,
    REPO_ROOT,
    SettingsError,
    validate_collection_name,
)
from app.settings.sections import (
    STRATEGIES,
    AbstentionSettings,
    AnsweringSettings,
    ChatBackendName,
    ChatModelSettings,
    ConversationSettings,
    EmbeddingSettings,
    FaqSettings,
    KnowledgeSettings,
    RetrievalSettings,
    Role,
    Section,
    ServingSettings,
    StorageSettings,
    Strategy,
)

__all__ = [
    "MAX_NAME_CHARS",
    "REPO_ROOT",
    "STRATEGIES",
    "AbstentionSettings",
    "AccessSettings",
    "AnsweringSettings",
    "ChatBackendName",
    "ChatModelSettings",
    "ConversationSettings",
    "EmbeddingSettings",
    "FaqSettings",
    "KnowledgeSettings",
    "RetrievalSettings",
    "Role",
    "ServingSettings",
    "Settings",
    "SettingsError",
    "StorageSettings",
    "Strategy",
    "get_settings",
    "load_settings",
    "settings_env",
    "validate_collection_name",
]


class Settings(BaseModel):
    """All configuration, one section per concern."""

    storage: StorageSettings
    knowledge: KnowledgeSettings
    embedding: EmbeddingSettings
    retrieval: RetrievalSettings
    abstention: AbstentionSettings
    answering: AnsweringSettings
    chat_model: ChatModelSettings
    serving: ServingSettings
    conversations: ConversationSettings
    access: AccessSettings
    faq: FaqSettings

    def sections(self) -> dict[str, Section]:
        return {name: getattr(self, name) for name in type(self).model_fields}

    def updated(self, **changes: object) -> Settings:
        """A copy with some settings changed (by field name), validated like the environment."""
        _check_known(changes)
        sections = self.sections()
        for name, section in sections.items():
            mine = {
                key: value for key, value in changes.items() if key in type(section).model_fields
            }
            if mine:
                sections[name] = _build(type(section), {**dict(section), **mine})
        return Settings.model_validate(sections)

    def model_copy(self, *, update: Any = None, deep: bool = False) -> Settings:
        """Field names (`top_k`) are routed to their section, as `updated` does."""
        if update and not set(update) <= set(type(self).model_fields):
            return self.updated(**update)
        return super().model_copy(update=update, deep=deep)

    def flat(self) -> dict[str, Any]:
        """Every field by its own name: what `load_settings(**…)` and `updated` accept."""
        return {key: value for section in self.sections().values() for key, value in section}


SECTIONS: dict[str, type[Section]] = {
    name: field.annotation  # type: ignore[misc]
    for name, field in Settings.model_fields.items()
}
FIELD_SECTIONS: dict[str, str] = {
    field: section for section, cls in SECTIONS.items() for field in cls.model_fields
}


def env_names(cls: type[Section], field: str) -> list[str]:
    """The variables a field reads: its own name, and an older one if it was renamed."""
    alias = cls.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices if str(choice).startswith("ZHIKU_")]
    return [f"ZHIKU_{field.upper()}"]


KNOWN_VARIABLES: frozenset[str] = frozenset(
    name
    for cls in SECTIONS.values()
    for field in cls.model_fields
    for name in env_names(cls, field)
)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; raises SettingsError with one clear line on a bad value."""
    return load_settings()


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment and `.env`, plus overrides by field name."""
    _check_known(overrides)
    _check_variables()
    sections = {
        name: _build(cls, {k: v for k, v in overrides.items() if k in cls.model_fields})
        for name, cls in SECTIONS.items()
    }
    # Never let any library reach for a model hub: fail at once instead of retrying.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    return Settings.model_validate(sections)


def _build(cls: type[Section], values: dict[str, Any]) -> Section:
    try:
        return cls(**values)
    except ValidationError as exc:
        raise SettingsError(_first_error(cls, exc)) from None
    except UnparsableSetting as exc:
        raise SettingsError(_unparsable(exc)) from None


def _check_known(names: dict[str, object]) -> None:
    for name in names:
        if name not in FIELD_SECTIONS:
            raise SettingsError(f"unknown setting {name!r}{_did_you_mean(name.upper())}")


def _check_variables() -> None:
    """A mistyped variable (ZHIKU_TOPK) would silently leave the default: say so instead."""
    dotenv = dotenv_values(".env") if Path(".env").is_file() else {}
    for name in [*os.environ, *dotenv]:
        if name.upper().startswith("ZHIKU_") and name.upper() not in KNOWN_VARIABLES:
            raise SettingsError(f"unknown setting {name}{_did_you_mean(name.upper())}")


def _did_you_mean(name: str) -> str:
    wanted = name if name.startswith("ZHIKU_") else f"ZHIKU_{name}"
    close = difflib.get_close_matches(wanted, sorted(KNOWN_VARIABLES), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def _first_error(cls: type[Section], exc: ValidationError) -> str:
    err = exc.errors()[0]
    message = err["msg"].removeprefix("Value error, ")
    if not err["loc"]:  # a rule across settings names them itself
        return f"invalid settings: {message}"
    field = str(err["loc"][0]).lower().removeprefix("zhiku_")
    variable = _variable_set(cls, field)
    shown = "" if _is_secret(cls, field) else f" (got {err.get('input')!r})"
    return f"invalid setting {variable}: {message}{shown}"


def _variable_set(cls: type[Section], field: str) -> str:
    """The variable the user wrote for a field (an old name of a renamed field, maybe)."""
    names = env_names(cls, field) if field in cls.model_fields else [f"ZHIKU_{field.upper()}"]
    upper_env = {key.upper() for key in os.environ}
    return next((name for name in names if name in upper_env), names[0])


def _is_secret(cls: type[Section], field: str) -> bool:
    """Keys are never printed, not even a wrong one."""
    known = cls.model_fields.get(field)
    return known is not None and "SecretStr" in str(known.annotation)


def _unparsable(exc: Exception) -> str:
    """pydantic-settings' own error for a value it cannot decode (e.g. a broken JSON list)
    names the field in quotes; said as the variable, in one line."""
    import re

    found = re.search(r'field "([^"]+)"', str(exc))
    name = f"ZHIKU_{found.group(1).upper()}" if found else "a ZHIKU_* variable"
    return f'invalid setting {name}: cannot parse the value (a list is JSON: ["a", "b"])'


def settings_env(settings: Settings) -> dict[str, str]:
    """The `ZHIKU_*` variables that give a child process exactly these settings."""
    env = {}
    for name, value in settings.flat().items():
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, list):
            value = [v.get_secret_value() if isinstance(v, SecretStr) else v for v in value]
        if isinstance(value, bool):
            text = str(value).lower()
        elif isinstance(value, list | dict):
            text = json.dumps(value, ensure_ascii=False)  # how pydantic-settings reads them
        else:
            text = str(value)
        env[f"ZHIKU_{name.upper()}"] = text
    return env
