"""Share the exact view: the page's address with every setting in its query string."""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st


def current_link() -> str:
    """The address of this page with its current query parameters."""
    base = st.context.url or ""
    pairs = [(key, value) for key in st.query_params for value in st.query_params.get_all(key)]
    return f"{base}?{urlencode(pairs)}" if pairs else base


def share_link() -> None:
    """A button that shows a copyable link to the current view (settings, seeds and all)."""
    if st.button("Link to this view", icon=":material/share:", key="share_link",
                 width="stretch"):
        st.code(current_link(), language=None, wrap_lines=True)
        st.caption("Copy it with the button at the right of the box. The address bar holds the "
                   "same link and keeps following your changes.")
