"""The one base class of errors a user can cause and fix.

Every layer raises its own subclass (a bad setting, a Chroma server that is down, a
missing model, a busy writer lock, a refused upload); the CLI and the UI catch this
class alone and show its message as one line with the fix, never a traceback. It lives
at the bottom of the import graph so that no layer has to import a higher one to
name the errors it may show.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem with the input or the environment, with a message that says what to do."""
