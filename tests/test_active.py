"""Tests for qualkit.active: uncertainty, suggest() and its diversity, and the code → retrain → suggest loop."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qualkit import coders
from qualkit.active import ActiveLearner, simulate, suggest, uncertainty
from qualkit.agree import krippendorff_alpha
from qualkit.classify import LabelsError, SegmentClassifier, model_version, read_gold_jsonl
from qualkit.codebook import load_codebook

DEMO_GOLD = Path(__file__).resolve().parents[1] / "corpora" / "demo" / "gold.jsonl"


@pytest.fixture(scope="module")
def codebook():
    return load_codebook()


@pytest.fixture(scope="module")
def cold_model(codebook):
    """The codebook-only model (no coded material at all)."""
    return SegmentClassifier(codebook).fit([], np.zeros((0, len(codebook.code_names)), dtype=int))


def _segments() -> pd.DataFrame:
    texts = [
        "Kommunen mangler boliger, og det er uklart hvem som har ansvaret for tildelingen.",
        "Vi har ikke midler til oppfølging i boligen, men samarbeidet med NAV fungerer.",
        "Beboerne ønsker å bli hørt om hvordan tjenestene skal organiseres.",
        "Husleien er høy, og mange får bostøtte og sosialhjelp.",
        "Det ambulante teamet følger opp beboerne, og kommunen har en plan for samarbeid.",
    ]
    rows = []
    for document, kommune in [("a.md", "Bergen"), ("b.md", "Bergen"), ("c.md", "Alta")]:
        for i, text in enumerate(texts):
            rows.append({"document": document, "kommune": kommune, "segment_id": f"{document}-{i}", "text": text})
    return pd.DataFrame(rows)


def test_uncertainty_peaks_at_the_threshold():
    probs = np.array([[0.3, 0.5], [0.0, 1.0], [0.65, 0.75]])
    values = uncertainty(probs, np.array([0.3, 0.5]))
    assert values.shape == (3,)
    assert values[1] == 0.0
    assert values[0] == 1.0 and values[2] == pytest.approx(0.5)
    assert ((values >= 0) & (values <= 1)).all()


def test_suggest_spreads_over_documents(cold_model):
    segments = _segments()
    batch = suggest(cold_model, segments, n=3, explore=0.0, random_state=0)
    assert len(batch) == 3
    assert batch["document"].nunique() == 3, "three identical documents: one suggestion from each"
    assert {"uncertainty", "priority"} <= set(batch.columns)


def test_suggest_without_spread_may_repeat_a_document(cold_model):
    segments = _segments()
    batch = suggest(cold_model, segments, n=5, diversity=0.0, spread=1.0, explore=0.0, random_state=0)
    assert batch["document"].value_counts().max() >= 2


def test_suggest_skips_coded_segments_and_scores_per_code(cold_model, codebook):
    segments = _segments()
    coded = segments["segment_id"].iloc[:12].tolist()
    batch = suggest(cold_model, segments, n=10, coded=coded)
    assert len(batch) == 3
    assert not set(batch["segment_id"]) & set(coded)
    assert all(f"{code}_score" in batch.columns for code in codebook.code_names)


def test_learner_loop_and_errors(codebook, cold_model):
    segments = _segments()
    learner = ActiveLearner(codebook, segments, base_model=cold_model, params={"cv": 2, "min_positives": 2})
    first = learner.suggest(4)
    learner.add_codes({sid: ["bolig"] if i % 2 else ["organisering"] for i, sid in enumerate(first["segment_id"])})
    model = learner.retrain()
    assert model is learner.model and model is not cold_model
    second = learner.suggest(4)
    assert not set(second["segment_id"]) & set(first["segment_id"])
    assert learner.coder().name.startswith("model:")
    with pytest.raises(LabelsError, match="unknown code"):
        learner.add_codes({segments["segment_id"][0]: ["penger"]})
    with pytest.raises(LabelsError, match="not in the segment table"):
        learner.add_codes({"nope": ["bolig"]})


def test_learner_reads_aliases_and_subcodes_as_their_top_level_code(codebook, cold_model):
    segments = _segments()
    learner = ActiveLearner(codebook, segments, base_model=cold_model)
    first, second = segments["segment_id"][:2]
    learner.add_codes({first: ["økonomi"], second: ["okonomi_individ", "bolig"]})
    okonomi = codebook.code_names.index("okonomi")
    assert learner.labels[first][okonomi] == 1 and sum(learner.labels[first]) == 1
    assert learner.labels[second][okonomi] == 1 and learner.labels[second][codebook.code_names.index("bolig")] == 1


@pytest.mark.skipif(not DEMO_GOLD.exists(), reason="the demo gold corpora/demo/gold.jsonl does not exist yet")
def test_active_learning_improves_agreement_with_the_demo_gold(codebook):
    """code → retrain → suggest on part of the demo corpus raises alpha on the demo documents held out.

    The keyword prior is switched off here: the synthetic demo corpus was written against the codebook, so
    the keyword features alone already reach alpha ≈ 0.55 on it and hide what the loop itself learns.
    """
    gold = read_gold_jsonl([DEMO_GOLD], codebook)
    gold["segment_id"] = [f"g{i}" for i in range(len(gold))]
    documents = sorted(gold["document"].unique())
    test_docs = set(documents[::3])
    pool = gold[~gold["document"].isin(test_docs)]
    test = gold[gold["document"].isin(test_docs)]
    names = codebook.code_names
    params = {"keyword_weight": 0}

    def mean_alpha(model: SegmentClassifier) -> float:
        pred = model.predict(test)
        truth = test[names].to_numpy()
        return float(np.mean([krippendorff_alpha(np.vstack([truth[:, j], pred[:, j]]).astype(float))
                              for j in range(len(names))]))

    cold = SegmentClassifier(codebook, **params).fit([], np.zeros((0, len(names)), dtype=int))
    models = simulate(codebook, pool, pool[names], sizes=[25, 200], strategy="active", base_model=cold,
                      params=params, random_state=0, max_batch=100)
    before, early, after = mean_alpha(cold), mean_alpha(models[25]), mean_alpha(models[200])
    assert after > before + 0.2, f"alpha on held-out demo documents went from {before:.2f} to only {after:.2f}"
    assert after > early + 0.1, f"alpha after 200 coded segments ({after:.2f}) is not above 25 ({early:.2f})"


def test_suggest_random_share_stays_unique_and_uncoded(cold_model):
    segments = _segments()
    coded = segments["segment_id"].iloc[:3].tolist()
    batch = suggest(cold_model, segments, n=10, coded=coded, explore=0.5, random_state=1)
    assert len(batch) == 10 and batch["segment_id"].is_unique
    assert not set(batch["segment_id"]) & set(coded)


def test_typicality_ranks_the_odd_segment_last():
    import scipy.sparse as sp

    from qualkit.active import typicality

    features = sp.csr_matrix(np.array([[1.0, 0.1, 0], [1.0, 0.0, 0], [0.9, 0.2, 0], [0, 0, 1.0]]))
    values = typicality(features)
    assert values.max() == pytest.approx(1.0)
    assert values.argmin() == 3 and values[3] < 0.5 * values[:3].min()


def test_density_prefers_typical_segments_among_equally_uncertain(cold_model):
    """With equal uncertainty, the segment like the rest of the material comes before the odd one."""
    segments = _segments()
    odd = pd.DataFrame([{"document": "d.md", "kommune": "Alta", "segment_id": "odd",
                         "text": "Værmeldingen lover sol, og fotballaget vant kampen sin på lørdag."}])
    table = pd.concat([segments, odd], ignore_index=True)
    plain = suggest(cold_model, table, n=len(table), explore=0.0, density=0.0, diversity=0.0, spread=1.0)
    weighted = suggest(cold_model, table, n=len(table), explore=0.0, density=2.0, diversity=0.0, spread=1.0)
    rank = {name: batch["segment_id"].tolist().index("odd") for name, batch in
            (("plain", plain), ("weighted", weighted))}
    assert rank["weighted"] > rank["plain"]  # the odd text is the most uncertain, yet the least typical


def test_expected_best_threshold_matches_the_best_cut_on_labels_drawn_from_the_scores():
    """With calibrated scores, the cut-off chosen from the scores alone (no labels) is the one that does best
    on labels drawn from those scores, for kappa and for F1."""
    from qualkit.classify.estimator import _best_threshold, _expected_best_threshold

    rng = np.random.default_rng(0)
    probs = rng.beta(0.6, 1.4, size=20_000)
    labels = (rng.random(probs.size) < probs).astype(int)
    for metric in ("kappa", "f1"):
        chosen = _expected_best_threshold(probs, metric)
        best_on_labels, _ = _best_threshold(probs, labels, metric)
        assert abs(chosen - best_on_labels) < 0.05, (metric, chosen, best_on_labels)
    assert _expected_best_threshold(np.zeros(50), "kappa") is None  # nothing is expected: keep the old one


def test_adapt_thresholds_changes_calibrated_codes_only(codebook):
    gold = read_gold_jsonl([DEMO_GOLD], codebook)
    names = codebook.code_names
    model = SegmentClassifier(codebook, cv=3).fit(gold, gold[names])
    before = model.thresholds_.copy()
    version = model_version(model)
    corpus = gold.sample(frac=1.0, random_state=1)
    assert model.adapt_thresholds(corpus.head(5)) is model and np.array_equal(model.thresholds_, before)
    model.stackers_[0] = None  # a code on weak evidence keeps its threshold
    model.adapt_thresholds(corpus)
    assert model.thresholds_[0] == before[0]
    assert not np.allclose(model.thresholds_[1:], before[1:])
    assert model.thresholds_adapted_to_ == len(corpus)
    assert list(model.evidence_["threshold"]) == list(model.thresholds_)
    assert model_version(model) != version  # another coder name: its codings differ


def test_learner_adapts_thresholds_to_its_uncoded_segments(codebook, cold_model, monkeypatch):
    segments = pd.concat([_segments()] * 2, ignore_index=True)
    segments["segment_id"] = [f"s{i}" for i in range(len(segments))]
    labels = {f"s{i}": ["bolig"] if i % 2 else ["økonomi"] for i in range(8)}
    kwargs = {"base_model": cold_model, "params": {"cv": 2, "min_positives": 2}}
    fixed = ActiveLearner(codebook, segments, adapt_thresholds=False, **kwargs).add_codes(labels).retrain()
    adapted = ActiveLearner(codebook, segments, **kwargs).add_codes(labels).retrain()
    assert not hasattr(fixed, "thresholds_adapted_to_")
    assert adapted.thresholds_adapted_to_ == len(segments) - len(labels)
    by_index = segments.drop(columns="segment_id")  # segments known by their index labels
    index_labels = {str(i): codes for i, codes in enumerate(labels.values())}
    indexed = ActiveLearner(codebook, by_index, **kwargs).add_codes(index_labels).retrain()
    assert indexed.thresholds_adapted_to_ == len(segments) - len(labels)
    monkeypatch.setattr(coders, "ADAPT_BELOW_CODED", len(labels))  # enough coded: cross-validation decides
    many = ActiveLearner(codebook, segments, **kwargs).add_codes(labels).retrain()
    assert not hasattr(many, "thresholds_adapted_to_")
