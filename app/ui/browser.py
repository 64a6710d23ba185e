"""Which browser this session belongs to, so each sees only its own conversations.

There are no user accounts: a random id is kept in a cookie (`zhiku_browser`, a year,
this site only). Streamlit can read cookies (`st.context.cookies`, sent when the page
connects) but not set them, so one line of our own JavaScript sets it, run by `st.html`
(`unsafe_allow_javascript`, Streamlit's supported way since `components.v1.html` was
deprecated) — no package does just that without a front-end build of its own. The
script carries only our random hex id (checked against `_VALID`), never document, model
or visitor text.
"""

from __future__ import annotations

import re
import uuid

import streamlit as st

COOKIE = "zhiku_browser"
_VALID = re.compile(r"[0-9a-f]{32}")
_SET_COOKIE = (
    "<script>document.cookie = '{name}={value}; path=/; max-age=31536000; SameSite=Strict';"
    "</script>"
)


def browser_id() -> str:
    """This browser's id: from its cookie, or new (and written to the cookie once)."""
    if "browser_id" not in st.session_state:
        known = st.context.cookies.get(COOKIE)
        valid = isinstance(known, str) and bool(_VALID.fullmatch(known))
        st.session_state.browser_id = known if valid else uuid.uuid4().hex
        st.session_state.browser_cookie_set = valid
    if not st.session_state.browser_cookie_set:
        value = st.session_state.browser_id
        assert _VALID.fullmatch(value), "only our own hex id goes into the script"
        st.html(_SET_COOKIE.format(name=COOKIE, value=value), unsafe_allow_javascript=True)
        st.session_state.browser_cookie_set = True
    return st.session_state.browser_id
