"""Which browser this session belongs to, so each sees only its own conversations.

There are no user accounts: a random id is kept in a cookie (`zhiku_browser`, a year,
this site only). Streamlit can read cookies (`st.context.cookies`, sent when the page
connects) but not set them, so a zero-height component sets it with one line of
JavaScript — no package does just that without a front-end build of its own. The cookie
carries only our random hex id, never document or model text.
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
        from streamlit.components.v1 import html

        html(_SET_COOKIE.format(name=COOKIE, value=st.session_state.browser_id), height=0)
        st.session_state.browser_cookie_set = True
    return st.session_state.browser_id
