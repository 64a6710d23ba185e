"""The Streamlit web chat. It calls the chain (app.answering) and the knowledge-base
service (app.knowledge); never ingest, retrieval or Chroma directly."""
