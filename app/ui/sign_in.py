"""The chat's sign-in page (issue 24): until a user signs in, nothing else runs; then a
sign-out button in the sidebar. `ZHIKU_AUTH=none` shows nothing and changes nothing;
`local` asks for a name and password; `oidc` sends the browser to the organisation's
identity provider (`st.login`) and checks the ID token it brings back (app.auth.oidc).

The session is this browser tab's Streamlit session (server-side state, no cookie to
replay); it ends after `ZHIKU_SESSION_HOURS`, at sign-out, or when the account is
disabled (`app.auth.SignIns` re-checks it at every run). Failed sign-ins pause a name
or an address after `ZHIKU_SIGN_IN_FAILURES` in 15 minutes.
"""

from __future__ import annotations

from typing import NoReturn

import streamlit as st

from app.auth import Session, SignIns, open_access
from app.auth.oidc import OidcSignIns, SignInRefused, fingerprint, open_sign_ins
from app.settings import Settings
from app.text import escape_markdown
from app.ui.i18n import _

SESSION_KEY = "signed_in"


@st.cache_resource(show_spinner=False)
def _sign_ins(_settings: Settings) -> SignIns:
    access = _settings.access
    return SignIns(open_access(_settings), access.session_hours, access.sign_in_failures)


@st.cache_resource(show_spinner=False)
def _oidc_sign_ins(_settings: Settings) -> OidcSignIns:
    return open_sign_ins(open_access(_settings), _settings.access)


def client_address() -> str:
    """Where the browser is, for the audit trail and the per-address sign-in pause. The
    server under Streamlit (uvicorn) already takes a proxy on this machine at its word
    (`X-Forwarded-For` from 127.0.0.1); Streamlit then hides a loopback peer (None), which
    is a browser on this machine."""
    return getattr(st.context, "ip_address", None) or "127.0.0.1"


def require_sign_in(settings: Settings) -> Session | None:
    """The signed-in session (None when accounts are off); otherwise the sign-in form,
    and nothing after it runs."""
    if settings.access.auth == "none":
        return None
    if settings.access.auth == "oidc":
        return _organisation(_oidc_sign_ins(settings))
    sign_ins = _sign_ins(settings)
    session = sign_ins.current(st.session_state.get(SESSION_KEY))
    if session is not None:
        st.session_state[SESSION_KEY] = session
        _sign_out_button(sign_ins, session)
        return session
    st.session_state.pop(SESSION_KEY, None)
    _form(sign_ins)
    st.stop()
    return None  # never reached: st.stop() ends the run


def _form(sign_ins: SignIns) -> None:
    st.title(_("Sign in to zhiku"))
    with st.form("sign_in"):
        name = st.text_input(_("User name"), max_chars=64)
        password = st.text_input(_("Password"), type="password", max_chars=200)
        submitted = st.form_submit_button(_("Sign in"), type="primary")
    if not submitted:
        return
    outcome, session = sign_ins.attempt(name, password, client_address())
    if session is not None:
        st.session_state[SESSION_KEY] = session
        st.rerun()
    if outcome == "paused":
        st.error(_("Too many failed sign-ins: try again in 15 minutes."))
    else:
        st.error(_("Wrong name or password."))


def _sign_out_button(sign_ins: SignIns, session: Session) -> None:
    with st.sidebar:
        st.caption(_("Signed in as {name}", name=session.user))
        if st.button(_("Sign out"), key="sign_out"):
            sign_ins.sign_out(session, client_address())
            st.session_state.pop(SESSION_KEY, None)
            if isinstance(sign_ins, OidcSignIns):
                st.logout()  # Streamlit's cookie goes too; the provider's session is its own
                st.stop()
            st.rerun()


def _organisation(sign_ins: OidcSignIns) -> Session:
    """`ZHIKU_AUTH=oidc`: the provider's sign-in, its ID token checked once per tab."""
    if not st.user.is_logged_in:
        st.session_state.pop(SESSION_KEY, None)
        st.title(_("Sign in to zhiku"))
        if st.button(_("Sign in with your organisation"), type="primary"):
            st.login()
        st.stop()
    token = st.user.tokens.to_dict().get("id")
    held = st.session_state.get(SESSION_KEY)
    session: Session | None = None
    if held is not None and token and held.mark == f"oidc:{fingerprint(token)}":
        session = sign_ins.current(held)  # this tab's sign-in: expiry, account, grants
    else:
        try:
            session = sign_ins.accept(token, client_address())
        except SignInRefused as exc:
            _refused(_("Your organisation's sign-in was not accepted: {reason}",
                       reason=escape_markdown(str(exc))))  # fmt: skip
    if session is None:
        _refused(_("Your sign-in has ended; sign in again."))
    st.session_state[SESSION_KEY] = session
    _sign_out_button(sign_ins, session)
    return session


def _refused(message: str) -> NoReturn:
    """Nothing of the chat: the reason, and a way to sign in as someone else."""
    st.session_state.pop(SESSION_KEY, None)
    st.title(_("Sign in to zhiku"))
    st.error(message)
    if st.button(_("Sign out"), key="sign_out"):
        st.logout()
    st.stop()
