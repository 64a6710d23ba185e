"""Saved conversations: every question and answer of the chat (and the API), with its
sources, settings, timings and the user's feedback, in a SQL database.

It sits beside `app.store` in the layers: the UI and the API write it, `app.evaluation`
reads it (feedback becomes questions), and it knows nothing of the chain beyond the JSON
shape of its result.
"""
