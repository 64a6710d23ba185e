"""Who may use zhiku: accounts, roles, grants per knowledge base, scoped API keys and
the audit trail (issue 24). Off unless `ZHIKU_AUTH` is `local` or `oidc`."""

from app.auth.access import (
    Access,
    AccessError,
    auth_url,
    expires_after,
    keys_required,
    open_access,
)
from app.auth.callers import API_OWNER, Callers, bearer, key_owner
from app.auth.sessions import Session, SignIns
from app.auth.types import (
    ALL,
    FULL_ACCESS,
    ROLES,
    SCOPES,
    Action,
    Actor,
    ApiKey,
    AuditEvent,
    Grant,
    NewKey,
    Principal,
    Role,
    Scope,
    User,
    can,
    visible,
)

__all__ = [
    "ALL",
    "API_OWNER",
    "FULL_ACCESS",
    "ROLES",
    "SCOPES",
    "Access",
    "AccessError",
    "Action",
    "Actor",
    "ApiKey",
    "AuditEvent",
    "Callers",
    "Grant",
    "NewKey",
    "Principal",
    "Role",
    "Scope",
    "Session",
    "SignIns",
    "User",
    "auth_url",
    "bearer",
    "can",
    "expires_after",
    "key_owner",
    "keys_required",
    "open_access",
    "visible",
]
