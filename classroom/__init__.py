"""Class mode: rooms where a class's own judgements train the model (no Streamlit here)."""
