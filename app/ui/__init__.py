"""The Streamlit web chat. It only calls chains and the ingest pipeline; no retrieval here."""
