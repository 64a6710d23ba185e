"""Whether to answer: `abstention.decide`, the one pure function the chain and the bench call."""

from __future__ import annotations

from app.answering.abstention import decide
from app.settings import AbstentionSettings

EVIDENCE = {"dense_top": 0.8, "coverage": 0.9, "missing_names": []}
SUPPORTED = {"support": 0.9, "unsupported": [], "sentences": 1, "verified": 1,
             "novelty": 0.5, "figure_missing": False}  # fmt: skip
ON, OFF = AbstentionSettings(), AbstentionSettings(abstain=False)


def test_before_generation_only_the_evidence_decides() -> None:
    assert decide(ON, EVIDENCE, has_context=True).signal is None
    missing = {**EVIDENCE, "missing_names": ["Mixtral"]}
    assert decide(ON, missing, has_context=True).signal == "evidence"
    assert decide(ON, EVIDENCE, has_context=False).signal == "evidence"  # nothing retrieved
    assert decide(OFF, missing, has_context=False).signal is None
    assert (
        decide(AbstentionSettings(abstain_check_names=False), missing, has_context=True).signal
        is None
    )


def test_after_generation_in_order_model_reasoning_support() -> None:
    unsupported = {**SUPPORTED, "unsupported": ["48"], "verified": 0}
    assert decide(ON, EVIDENCE, has_context=True, support=SUPPORTED).signal is None
    refused = decide(ON, EVIDENCE, has_context=True, support=unsupported, refused=True)
    assert refused.signal == "model" and refused.abstained and not refused.withholds
    nothing = "没有任何段落包含答案。"
    assert decide(ON, EVIDENCE, has_context=True, support=SUPPORTED, reasoning=nothing).withholds
    withheld = decide(ON, EVIDENCE, has_context=True, support=unsupported)
    assert withheld.signal == "support" and withheld.withholds
    assert withheld.as_dict() == {
        "abstained": True,
        "signal": "support",
        "scores": {"evidence": EVIDENCE, "support": unsupported},
    }
    # switched off: measured, never withheld; the model's own refusal still counts
    assert decide(OFF, EVIDENCE, has_context=True, support=unsupported).signal is None
    assert decide(OFF, EVIDENCE, has_context=True, support=SUPPORTED, refused=True).abstained


def test_thresholds() -> None:
    far = {**EVIDENCE, "dense_top": 0.3, "coverage": 0.1}
    strict = AbstentionSettings(abstain_min_dense=0.5, abstain_min_coverage=0.5)
    assert decide(strict, far, has_context=True).signal == "evidence"
    assert decide(ON, far, has_context=True).signal is None
    thin = {**SUPPORTED, "support": 0.3}
    assert decide(
        AbstentionSettings(abstain_min_support=0.5), EVIDENCE, has_context=True, support=thin
    ).withholds
    echo = {**SUPPORTED, "novelty": 0.0}
    assert decide(
        AbstentionSettings(abstain_min_novelty=0.1), EVIDENCE, has_context=True, support=echo
    ).withholds
    figure = {**SUPPORTED, "figure_missing": True}
    assert decide(ON, EVIDENCE, has_context=True, support=figure).withholds
    assert not decide(
        AbstentionSettings(abstain_check_facts=False), EVIDENCE, has_context=True, support=figure
    ).withholds
