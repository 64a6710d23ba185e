"""The one base class of errors a user can cause and fix.

Every layer raises its own subclass (a bad setting, a Chroma server that is down, a
missing model, a busy writer lock, a refused upload); the CLI and the UI catch this
class alone and show its message as one line with the fix, never a traceback. It lives
at the bottom of the import graph so that no layer has to import a higher one to
name the errors it may show.
"""

from __future__ import annotations

import errno


class UserError(Exception):
    """A problem with the input or the environment, with a message that says what to do."""


DISK_FULL = "disk full: the data folder's disk has no space left; free some and retry"


def disk_full(exc: BaseException | None) -> bool:
    """ENOSPC anywhere in the exception's chain, or SQLite's "database or disk is full":
    said as one line instead of whatever the library that hit it prints."""
    for _ in range(10):
        if exc is None:
            return False
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        text = str(exc).lower()
        if "no space left on device" in text or "disk is full" in text:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def client_gone(exc: BaseException | None) -> bool:
    """The client closed its connection mid-request (anyio's closed or broken stream, a
    reset socket), also inside an exception group: a fact to log in one line, not a bug."""
    import anyio

    gone = (anyio.ClosedResourceError, anyio.BrokenResourceError, ConnectionResetError)
    if isinstance(exc, BaseExceptionGroup):
        return all(client_gone(inner) for inner in exc.exceptions)
    return isinstance(exc, gone)
