"""知库 zhiku: an offline-first, Chinese-first knowledge-base chat. See README.md § Layout."""
