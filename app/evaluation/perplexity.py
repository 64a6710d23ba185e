"""Perplexity of a reference answer under the local model, given a prompt.

Why by hand: llama-cpp-python's scoring API (`logits_all=True`) keeps a full
vocabulary row per context position (4096 × 151k floats ≈ 2.4 GB for Qwen) and needs a
second model instance. Instead the chain's own `Llama` evaluates the prompt (reusing
whatever prefix is already in its KV cache, e.g. the static system prompt) and then the
answer one token at a time, reading the last position's logits after each step.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def _chat_prompt(llama, messages: Sequence[tuple[str, str]]) -> str:
    """The prompt text llama.cpp would build for these messages (the GGUF's chat template)."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    roles = {"human": "user", "ai": "assistant"}
    formatter = Jinja2ChatFormatter(
        template=llama.metadata["tokenizer.chat_template"],
        eos_token=llama._model.token_get_text(llama.token_eos()),
        bos_token=llama._model.token_get_text(llama.token_bos()),
    )
    dicts = [{"role": roles.get(role, role), "content": text} for role, text in messages]
    return formatter(messages=dicts).prompt


def _last_logprobs(llama) -> np.ndarray:
    logits = np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(llama.n_vocab(),))
    shifted = logits - logits.max()
    return shifted - math.log(np.exp(shifted).sum())


def answer_perplexity(llama, messages: Sequence[tuple[str, str]], answer: str) -> float:
    """exp(mean negative log-likelihood) of `answer` as the assistant's reply."""
    prompt = llama.tokenize(_chat_prompt(llama, messages).encode("utf-8"), special=True)
    target = llama.tokenize(answer.encode("utf-8"), add_bos=False, special=False)
    if not target:
        return float("nan")
    if len(prompt) + len(target) > llama.n_ctx():
        raise ValueError("prompt and answer do not fit the model's context")
    # Keep the cached prefix, re-evaluate at least the prompt's last token for its logits.
    cached = 0
    for old, new in zip(llama.input_ids[: llama.n_tokens], prompt[:-1], strict=False):
        if old != new:
            break
        cached += 1
    llama.n_tokens = cached
    llama.eval(prompt[cached:])
    total = 0.0
    for token in target:
        total -= float(_last_logprobs(llama)[token])
        llama.eval([token])
    return math.exp(total / len(target))
