"""Shared Streamlit and plotly helpers: the only place that styles the course."""

from ui import theme  # noqa: F401  (registers the plotly templates once)
