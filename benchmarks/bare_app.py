"""The yardstick: one slider and one plotly chart, nothing else. Every page is timed against it."""

import numpy as np
import plotly.graph_objects as go
import streamlit as st

st.title("Bare page")
frequency = st.slider("Frequency", 1, 20, 5, key="frequency")
x = np.linspace(0, 1, 200)
st.plotly_chart(go.Figure(go.Scatter(x=x, y=np.sin(2 * np.pi * frequency * x))), key="chart")
