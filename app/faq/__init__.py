"""FAQ entries: answers a person wrote once for a question of a knowledge base, matched
against the questions users ask (`app.faq.matching`) and shown verbatim when one matches.

It sits beside `app.store` and `app.conversations` in the layers: the answering chain
reads it, the FAQ service in `app.knowledge` writes it, and the UI, API and CLI reach it
only through that service.
"""
