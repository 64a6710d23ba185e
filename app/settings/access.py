"""Who may use zhiku (app/auth): the access section of the settings, with the
organisation's sign-in (`ZHIKU_AUTH=oidc`), kept apart from sections.py for its size."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from app.settings.rules import checked_provider_url, parse_mapping
from app.settings.sections import Role, Section


class AccessSettings(Section):
    """Who may use zhiku (app/auth): accounts, roles, scoped keys, the audit trail."""

    auth: Literal["none", "local", "oidc"] = Field(
        default="none",
        description="none: one user, no sign-in (the zero-config default); local: accounts "
        "in zhiku's database, every API call needs a key; oidc: the organisation's sign-in "
        "(accounts made at first sign-in, keys as with local).",
    )
    auth_url: str = Field(
        default="", description="SQLAlchemy URL of users, grants, keys, audit; empty: SQLite."
    )
    session_hours: float = Field(
        default=12.0, gt=0, le=24 * 30, description="A chat sign-in lasts this long."
    )
    sign_in_failures: int = Field(
        default=5, ge=1, le=1000,
        description="Failed sign-ins per name or address in 15 minutes before a pause.",
    )  # fmt: skip

    # ZHIKU_AUTH=oidc: the organisation's identity provider (app/auth/oidc.py)
    oidc_metadata_url: str = Field(
        default="",
        description="The provider's discovery document (…/.well-known/openid-configuration); "
        "https, or http on a loopback host.",
    )
    oidc_client_id: str = Field(default="", description="zhiku's client id at the provider.")
    oidc_client_secret: SecretStr = Field(
        default=SecretStr(""), description="zhiku's client secret at the provider."
    )
    oidc_redirect_uri: str = Field(
        default="http://127.0.0.1:{port}/oauth2callback",
        description="Where the provider sends the browser back: the chat's address + "
        "/oauth2callback ({port}: the chat's port), registered at the provider.",
    )
    oidc_groups_claim: str = Field(
        default="groups", min_length=1, description="The ID-token claim listing the groups."
    )
    oidc_roles: Annotated[dict[str, Role], NoDecode] = Field(
        default_factory=dict,
        description="Group → role, JSON or group=role,…; the highest mapped role wins.",
    )
    oidc_default_role: Literal["none", "viewer"] = Field(
        default="none",
        description="The role of a user in no mapped group; none: they cannot sign in.",
    )
    oidc_cookie_secret: SecretStr = Field(
        default=SecretStr(""),
        description="Signs the chat's sign-in cookie; empty: a random one kept in data_dir.",
    )

    @field_validator("oidc_metadata_url", "oidc_redirect_uri")
    @classmethod
    def _provider_url(cls, url: str) -> str:
        checked_provider_url(url.replace("{port}", "1"))  # Streamlit fills in its port
        return url

    @field_validator("oidc_redirect_uri")
    @classmethod
    def _callback(cls, url: str) -> str:
        if not url.rstrip("/").endswith("/oauth2callback"):
            raise ValueError("must end with /oauth2callback (where Streamlit takes the sign-in)")
        return url

    @field_validator("oidc_cookie_secret")
    @classmethod
    def _long_secret(cls, secret: SecretStr) -> SecretStr:
        if secret.get_secret_value() and len(secret.get_secret_value()) < 32:
            raise ValueError("use at least 32 random characters")
        return secret

    @field_validator("oidc_roles", mode="before")
    @classmethod
    def _mapping(cls, value: object) -> object:
        return parse_mapping(value)

    @model_validator(mode="after")
    def _oidc_complete(self) -> AccessSettings:
        if self.auth == "oidc":
            missing = [
                f"ZHIKU_{name.upper()}"
                for name in ("oidc_metadata_url", "oidc_client_id", "oidc_client_secret")
                if not str(_plain(getattr(self, name))).strip()
            ]
            if missing:
                raise ValueError(f"ZHIKU_AUTH=oidc needs {', '.join(missing)}")
        return self


def _plain(value: object) -> object:
    return value.get_secret_value() if isinstance(value, SecretStr) else value
