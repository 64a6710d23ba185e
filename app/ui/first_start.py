"""First start: an empty default knowledge base gets the sample corpus, so the chat works
with no configuration (README's main command)."""

from __future__ import annotations

import streamlit as st

from app.knowledge.types import IngestBusyError
from app.settings import Settings
from app.ui import resources
from app.ui.i18n import _
from app.ui.progress import StreamlitProgress, show_report


def ingest_samples_if_empty(settings: Settings) -> None:
    """Ingest `sample_corpus` into the default collection once, if it is empty."""
    done = resources.first_start_done()
    if (
        done
        or not settings.knowledge.first_start_samples
        or not settings.knowledge.sample_corpus.is_dir()
    ):
        return
    knowledge = resources.knowledge()
    if knowledge.size(settings.knowledge.collection) > 0:
        done.append(settings.knowledge.collection)
        return
    label = _("First start: indexing the sample documents…")
    with st.status(label, expanded=True) as status:
        progress = StreamlitProgress()
        try:
            report = knowledge.ingest_paths(
                settings.knowledge.collection, [settings.knowledge.sample_corpus], progress=progress
            )
        except IngestBusyError:
            # Another session opened at the same moment is indexing them: wait for it.
            status.update(label=_("Another session is indexing the samples; please wait…"))
            knowledge.wait_for_writer(settings.knowledge.collection)
            status.update(label=_("Samples indexed"), state="complete", expanded=False)
            done.append(settings.knowledge.collection)
            return
        progress.finish()
        show_report(report)
        status.update(label=_("Samples indexed"), state="complete", expanded=False)
    done.append(settings.knowledge.collection)
