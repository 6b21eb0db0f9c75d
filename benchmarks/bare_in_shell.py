"""The bare page's slider and chart as a lesson section holds them: the slider bound to the URL,
both in one fragment. Served by shell_app.py inside the course's frame."""

import numpy as np
import plotly.graph_objects as go
import streamlit as st

st.title("Bare page in the course frame")


@st.fragment
def section() -> None:
    frequency = st.slider("Frequency", 1, 20, 5, key="frequency", bind="query-params")
    x = np.linspace(0, 1, 200)
    st.plotly_chart(go.Figure(go.Scatter(x=x, y=np.sin(2 * np.pi * frequency * x))),
                    key="chart")


section()
