"""Knowledge bases as one service: what the chat page, the HTTP API, its job runner and
the CLI do to a knowledge base (create, list, upload, delete a document, re-index),
written once in `app.knowledge.service` so they cannot drift apart."""
