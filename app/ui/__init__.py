"""The Streamlit web chat. It calls the chain (app.answering), the ingest pipeline and the
knowledge-base reads of app.store.knowledge_bases; never retrieval or Chroma directly."""
