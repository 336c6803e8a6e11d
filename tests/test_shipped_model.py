"""The default codebook's shipped model: what it is trained on, that it is current, how it is blended with a
model trained on a user's codings, and the fallback when it cannot be used."""

from __future__ import annotations

import copy
import json
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest

from qualkit import classify
from qualkit.active import ActiveLearner
from qualkit.classify import (
    SHIPPED_MODEL,
    SegmentClassifier,
    build_shipped_model,
    default_classifier,
    load_model,
    model_version,
    prior_share,
    save_model,
    shipped_model,
)
from qualkit.classify.context import add_context
from qualkit.classify.models import reference_recipe, text_digest
from qualkit.codebook import load_codebook

from conftest import SHARED, needs_shared

REFERENCE_GOLD = SHARED / "data" / "gold" / "dev.jsonl"
REBUILD = "qualkit build-default-model --gold ../shared/data/gold/dev.jsonl"


def _table(n: int = 24) -> pd.DataFrame:
    texts = ["Kommunen mangler boliger til de som kommer ut fra fengsel.", "Budsjettet til oppfølging er kuttet.",
             "Beboerne får være med å bestemme.", "NAV og kommunen samarbeider om tildelingen."]
    return add_context(pd.DataFrame({"segment_id": [f"s{i}" for i in range(n)],
                                     "document": [f"d{i // 6}" for i in range(n)],
                                     "text": [f"{texts[i % 4]} ({i})" for i in range(n)]}))


def test_the_default_codebook_gets_the_shipped_model():
    model = default_classifier()
    sources = model.training_sources_
    assert sources["reference_gold"] and sources["reference_segments"] > 500
    assert sources["demo_segments"] > 500
    built = default_classifier(shipped=False, cache=False)
    assert "reference_gold" not in built.training_sources_


def test_another_codebook_gets_no_shipped_model(tmp_path):
    from qualkit.codebook import DEFAULT_CODEBOOK

    text = DEFAULT_CODEBOOK.read_text(encoding="utf-8").replace("\nname: boligsosialt", "\nname: egen_kodebok", 1)
    path = tmp_path / "egen.yaml"
    path.write_text(text, encoding="utf-8")
    other = load_codebook(path)
    assert other.fingerprint != load_codebook().fingerprint
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning either: there is simply nothing shipped for it
        assert shipped_model(other) is None


@needs_shared
def test_the_shipped_model_is_current():
    payload = joblib.load(SHIPPED_MODEL)
    assert payload["recipe"] == reference_recipe(load_codebook(), [REFERENCE_GOLD]), (
        f"the classifier, codebook, demo gold or reference gold changed since {SHIPPED_MODEL.name} was built; "
        f"rebuild it: {REBUILD}")


@needs_shared
def test_rebuilding_reproduces_the_shipped_model(tmp_path):
    rebuilt = build_shipped_model([REFERENCE_GOLD], tmp_path / "m.joblib")
    table = _table()
    shipped = default_classifier()
    np.testing.assert_allclose(rebuilt.predict_proba(table), shipped.predict_proba(table), atol=1e-4)
    np.testing.assert_allclose(rebuilt.thresholds_, shipped.thresholds_, atol=0.011)  # one step of the grid


@needs_shared
def test_the_shipped_model_holds_no_reference_paragraph():
    """Its training texts may not be redistributed: only a vocabulary of words and n-grams is kept."""
    paragraphs = [json.loads(line)["text"] for line in REFERENCE_GOLD.read_text(encoding="utf-8").splitlines()
                  if line.strip()]
    strings = _strings(joblib.load(SHIPPED_MODEL)["model"])
    longest = max(len(s) for s in strings)
    assert not {p for p in paragraphs} & strings
    assert not any(len(p) <= longest and p in strings for p in paragraphs)
    for vectorizer in default_classifier().vectorizers_.values():
        assert not hasattr(vectorizer, "stop_words_")
    # what it records instead: one-way hashes, so that benchmarks can refuse to test on its training material
    recorded = set(default_classifier().training_sources_["reference_text_sha256"])
    assert {text_digest(p) for p in paragraphs} == recorded
    assert text_digest("  ".join(paragraphs[0].split(" "))) in recorded  # whitespace does not matter


def _strings(obj, seen=None) -> set[str]:
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return set()
    seen.add(id(obj))
    if isinstance(obj, str):
        return {obj}
    found: set[str] = set()
    items = obj.items() if isinstance(obj, dict) else None
    if items is not None:
        for key, value in items:
            found |= _strings(key, seen) | _strings(value, seen)
    elif isinstance(obj, list | tuple | set | frozenset):
        for value in obj:
            found |= _strings(value, seen)
    elif isinstance(obj, np.ndarray) and obj.dtype == object:
        for value in obj.ravel():
            found |= _strings(value, seen)
    elif hasattr(obj, "__dict__"):
        found |= _strings(vars(obj), seen)
    return found


@pytest.mark.parametrize("change, reason", [
    ({"sklearn_version": "0.24.2"}, "scikit-learn 0.24.2"),
    ({"qualkit_version": "0.0.1"}, "qualkit 0.0.1"),
    ({"format": classify.models.MODEL_FORMAT - 1}, f"of format {classify.models.MODEL_FORMAT}; retrain"),
])
def test_an_unusable_shipped_model_falls_back_with_a_warning(tmp_path, monkeypatch, change, reason):
    payload = joblib.load(SHIPPED_MODEL)
    payload.update(change)
    stale = tmp_path / "stale.joblib"
    joblib.dump(payload, stale)
    with pytest.warns(UserWarning, match=reason):
        assert shipped_model(path=stale) is None
    monkeypatch.setattr(classify.models, "SHIPPED_MODEL", stale)
    monkeypatch.setenv("QUALKIT_CACHE", str(tmp_path))
    with pytest.warns(UserWarning, match="demo corpus"):
        model = default_classifier()
    assert "reference_gold" not in model.training_sources_


def test_a_missing_shipped_model_falls_back_with_a_warning(tmp_path):
    with pytest.warns(UserWarning, match="not installed"):
        assert shipped_model(path=tmp_path / "missing.joblib") is None


# -- blending ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def own_model():
    codebook = load_codebook()
    table = _table()
    Y = np.zeros((len(table), len(codebook.code_names)), dtype=int)
    for i in range(len(table)):
        Y[i, i % 4] = 1
    return SegmentClassifier(codebook).fit(table, Y), table


def test_blending_mixes_the_probabilities(own_model):
    model, table = own_model
    prior = default_classifier()
    own = model.predict_proba(table)
    version = model_version(model)
    blended = copy.deepcopy(model).blend_prior(prior, 0.75)
    expected = 0.75 * prior.predict_proba(table) + 0.25 * own
    np.testing.assert_allclose(blended.predict_proba(table), expected)
    assert not np.allclose(expected, own)
    assert model_version(blended) != version  # a blended model is another coder


def test_blending_refuses_bad_input(own_model):
    model, _ = own_model
    with pytest.raises(ValueError, match="between 0 and 1"):
        model.blend_prior(default_classifier(), 1.5)
    narrow = SegmentClassifier().fit(["bolig", "penger"] * 10, np.array([[1, 0], [0, 1]] * 10))
    with pytest.raises(ValueError, match="prior model codes"):
        model.blend_prior(narrow, 0.5)


def test_a_blended_model_survives_saving(own_model, tmp_path):
    model, table = own_model
    blended = copy.deepcopy(model).blend_prior(default_classifier(), prior_share(40))
    path = save_model(blended, tmp_path / "m.joblib")
    reloaded = load_model(path, load_codebook())
    np.testing.assert_allclose(reloaded.predict_proba(table), blended.predict_proba(table))
    assert not list(tmp_path.glob("*.partial"))


def test_the_prior_share_shrinks_as_coding_grows():
    shares = [prior_share(n) for n in (0, 25, 100, 200, 1000)]
    assert shares[0] == 1.0
    assert shares == sorted(shares, reverse=True)
    assert prior_share(classify.PRIOR_SEGMENTS) == pytest.approx(0.5)


def test_the_learner_blends_its_retrained_models_with_the_shipped_model():
    table = _table(40)
    learner = ActiveLearner(load_codebook(), table)
    assert learner.prior is learner.model  # the shipped model is the base and the prior
    learner.add_codes({f"s{i}": [["bolig", "okonomi", "brukermedvirkning", "organisering"][i % 4]]
                       for i in range(12)})
    model = learner.retrain()
    assert model.prior_ is learner.prior
    assert model.prior_share_ == pytest.approx(prior_share(12))
    assert model.thresholds_adapted_to_ == 28  # set for the 28 uncoded segments
    other = ActiveLearner(load_codebook(), table, base_model=default_classifier(shipped=False))
    assert other.prior is None


def test_a_blend_starts_from_mixed_thresholds_and_trusts_the_prior_s_evidence(own_model):
    model, _ = own_model
    prior = default_classifier()
    assert set(model.weak_codes_) - set(prior.weak_codes_)  # 24 segments: codes the prior knows better
    blended = copy.deepcopy(model).blend_prior(prior, 0.8)
    np.testing.assert_allclose(blended.thresholds_, 0.8 * prior.thresholds_ + 0.2 * model.thresholds_)
    assert set(blended.weak_codes_) == set(model.weak_codes_) & set(prior.weak_codes_)


@needs_shared
def test_the_build_command_writes_a_loadable_model(tmp_path):
    from typer.testing import CliRunner

    from qualkit.cli.main import app

    out = tmp_path / "modell.joblib"
    result = CliRunner().invoke(app, ["build-default-model", "--gold", str(REFERENCE_GOLD), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "618 reference segments" in result.output
    assert load_model(out, load_codebook()).training_sources_["reference_segments"] == 618


def test_the_build_command_names_a_missing_gold_file(tmp_path):
    from typer.testing import CliRunner

    from qualkit.cli.main import app

    missing = tmp_path / "finnes_ikke.jsonl"
    result = CliRunner().invoke(app, ["build-default-model", "--gold", str(missing), "--out", str(tmp_path / "m")])
    assert result.exit_code != 0
    assert "finnes_ikke.jsonl" in result.output
    assert not (tmp_path / "m").exists()


def test_info_names_the_coding_model():
    from typer.testing import CliRunner

    from qualkit.cli.main import app

    result = CliRunner().invoke(app, ["info"])
    assert result.exit_code == 0, result.output
    assert f"coding model (default codebook): {SHIPPED_MODEL.name}" in result.output
    assert f"{default_classifier().training_sources_['reference_segments']} report paragraphs" in result.output


def test_a_saved_blended_model_sets_its_thresholds_for_the_corpus_it_codes(own_model, tmp_path):
    from qualkit.coders import make_coder

    model, _ = own_model
    path = save_model(copy.deepcopy(model).blend_prior(default_classifier(), prior_share(24)), tmp_path / "m.joblib")
    segments = _table(40)
    coder, messages = make_coder(load_codebook(), segments, model=path)
    assert coder.model.thresholds_adapted_to_ == 40
    assert any("blended with the shipped default model" in m for m in messages)
    plain, messages = make_coder(load_codebook(), segments, model=save_model(model, tmp_path / "plain.joblib"))
    assert not hasattr(plain.model, "thresholds_adapted_to_")  # a model of its own keeps its thresholds


@pytest.mark.parametrize("content, message", [
    ('{"text": "Husleia er for høy.", "codes": ["okonomi"]}\n{"text": "Vi mangler boliger.", "codes": ["bolig"]\n',
     "gull.jsonl, line 2: not valid JSON"),
    ('{"text": "Husleia er for høy.", "codes": ["okonomi"]}\n{"codes": ["bolig"]}\n',
     "gull.jsonl, line 2: a coded unit needs a 'text' field"),
    ("\n", "gull.jsonl: no coded units to train the shipped model on"),
])
def test_a_bad_gold_file_is_named(tmp_path, content, message):
    from typer.testing import CliRunner

    from qualkit.cli.main import app

    gold = tmp_path / "gull.jsonl"
    gold.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(app, ["build-default-model", "--gold", str(gold), "--out", str(tmp_path / "m")])
    assert result.exit_code != 0
    assert message in " ".join(result.output.split())
    assert not list(tmp_path.glob("m*"))
