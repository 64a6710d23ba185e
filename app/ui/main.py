"""Streamlit entry point: `zhiku chat` runs `streamlit run app/ui/main.py`."""

from __future__ import annotations

import streamlit as st

from app.ui import chat_page

st.set_page_config(page_title="知库 zhiku", page_icon="📚", layout="wide")
chat_page.render()
