"""Who the `zhiku` command acts as: the local operator, `cli:<operating-system user>`.

The command runs where the data folder is, so whoever can run it could change the
databases directly: it asks for no sign-in. With accounts on (`ZHIKU_AUTH=local`) its
changes are signed with that name and go to the audit trail beside the API's and the
chat's, from client `cli`; with accounts off there is no trail, as for the API.
"""

from __future__ import annotations

import getpass

from app.auth import open_access
from app.settings import Settings


def actor() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name in a container: still someone
        user = "unknown"
    return f"cli:{user}"


def audit(settings: Settings, action: str, target: str, detail: str = "") -> None:
    """Record a change made from the command line (accounts on only; names, no secrets)."""
    if settings.access.auth != "none":
        open_access(settings).audit.record(actor(), action, target, "cli", "ok", detail)
