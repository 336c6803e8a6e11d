"""The classifier from the command line: `code --train`, `code` with the default model, `train`, `suggest`."""

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from qualkit.cli import app

runner = CliRunner()
CODES = ["bolig", "tjenester", "organisering", "okonomi", "brukermedvirkning"]


def _labels(path: Path, rows: list[tuple[str, str]], column: str = "text") -> Path:
    pd.DataFrame(rows, columns=[column, "codes"]).to_csv(path, index=False)
    return path


def test_code_without_train_uses_the_default_model(transcript_folder: Path, tmp_path: Path):
    out = tmp_path / "seg.csv"
    result = runner.invoke(app, ["code", str(transcript_folder), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "model:boligsosialt@" in result.output
    table = pd.read_csv(out, keep_default_na=False)
    for code in CODES:
        assert set(table[code]) <= {0, 1} and table[f"{code}_score"].between(0, 1).all()


def test_code_with_train_learns_from_the_labels_by_text_and_by_segment_id(transcript_folder: Path, tmp_path: Path):
    first = tmp_path / "first.csv"
    result = runner.invoke(app, ["code", str(transcript_folder), "--coder", "keywords", "--out", str(first)])
    assert result.exit_code == 0
    segments = pd.read_csv(first, keep_default_na=False)
    # a deliberately odd labelling: every segment that mentions NAV is "brukermedvirkning", nothing else is
    by_text = [(t, "brukermedvirkning" if "NAV" in t else "") for t in segments["text"]] * 8
    labels = _labels(tmp_path / "labels.csv", by_text)
    out = tmp_path / "trained.csv"
    result = runner.invoke(app, ["code", str(transcript_folder), "--train", str(labels), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "trained on 5 labelled segments" in result.output  # each segment once, though listed 8 times
    output = " ".join(result.output.split())
    assert "5 segments are listed more than once; the last row counts (lines 2 and " in output
    trained = pd.read_csv(out, keep_default_na=False).set_index("segment_id")
    nav = segments.loc[segments["text"].str.contains("NAV"), "segment_id"]
    untrained = tmp_path / "untrained.csv"
    assert runner.invoke(app, ["code", str(transcript_folder), "--out", str(untrained)]).exit_code == 0
    before = pd.read_csv(untrained, keep_default_na=False).set_index("segment_id")["brukermedvirkning_score"]
    gain = trained["brukermedvirkning_score"] / before  # the shipped model's share is large after 5 segments
    assert gain[nav].min() > 1.5 * gain.drop(nav).max()
    by_id = _labels(tmp_path / "ids.csv", [(i, "bolig;økonomi") for i in segments["segment_id"]], "segment_id")
    result = runner.invoke(app, ["code", str(transcript_folder), "--train", str(by_id), "--out", str(out)])
    assert result.exit_code == 0, result.output


def test_unknown_code_in_labels_names_file_line_and_code(transcript_folder: Path, tmp_path: Path):
    labels = _labels(tmp_path / "bad.csv", [("Noe tekst.", "bolig"), ("Mer tekst.", "boliger")])
    result = runner.invoke(app, ["code", str(transcript_folder), "--train", str(labels), "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert "bad.csv" in result.output and "line 3" in result.output and "boliger" in result.output


def test_train_saves_a_model_that_code_and_suggest_use(transcript_folder: Path, tmp_path: Path):
    labels = _labels(tmp_path / "labels.csv", [("Vi mangler boliger.", "bolig"), ("Budsjettet er kuttet.", "okonomi")])
    model = tmp_path / "modell.joblib"
    result = runner.invoke(app, ["train", str(labels), "--out", str(model)])
    assert result.exit_code == 0, result.output
    assert model.stat().st_size > 0
    out = tmp_path / "seg.csv"
    assert runner.invoke(app, ["code", str(transcript_folder), "--model", str(model), "--out", str(out)]).exit_code == 0
    suggestions = tmp_path / "neste.csv"
    result = runner.invoke(app, ["suggest", str(transcript_folder), "--model", str(model), "-n", "3",
                                 "--out", str(suggestions)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(suggestions, keep_default_na=False)
    assert len(table) == 3 and table["codes"].eq("").all() and table["segment_id"].is_unique


def test_suggest_leaves_out_what_is_already_coded(transcript_folder: Path, tmp_path: Path):
    first = tmp_path / "first.csv"
    runner.invoke(app, ["code", str(transcript_folder), "--coder", "keywords", "--out", str(first)])
    ids = pd.read_csv(first)["segment_id"].tolist()
    labels = _labels(tmp_path / "ids.csv", [(i, "bolig") for i in ids[:3]], "segment_id")
    out = tmp_path / "neste.csv"
    result = runner.invoke(app, ["suggest", str(transcript_folder), "--labels", str(labels), "-n", "5",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert set(pd.read_csv(out)["segment_id"]) == set(ids[3:])


def test_training_from_labels_sets_thresholds_for_the_uncoded_segments(tmp_path: Path, monkeypatch):
    from qualkit import coders
    from qualkit.codebook import load_codebook
    from qualkit.coders import train_from_labels

    segments = _forty_segments()
    codes = ["bolig", "okonomi", "brukermedvirkning", "organisering"]
    labels = _labels(tmp_path / "labels.csv", [(f"s{i}", codes[i % 4]) for i in range(12)], "segment_id")
    model, messages = train_from_labels(load_codebook(), segments, labels)
    assert model.thresholds_adapted_to_ == 28  # the 40 segments minus the 12 coded
    assert any("trained on 12 labelled segments" in m for m in messages)
    monkeypatch.setattr(coders, "ADAPT_BELOW_CODED", 12)  # enough labels ...
    model, _ = train_from_labels(load_codebook(), segments, labels)
    assert model.thresholds_adapted_to_ == 28  # ... but blended with the shipped model: set for the corpus
    from qualkit import classify

    monkeypatch.setattr(classify, "shipped_model", lambda codebook=None: None)  # as for another codebook
    model, _ = train_from_labels(load_codebook(), segments, labels)
    assert not hasattr(model, "thresholds_adapted_to_")  # cross-validated thresholds stay
    assert getattr(model, "prior_", None) is None


def _forty_segments() -> pd.DataFrame:
    texts = ["Kommunen mangler boliger til de som kommer ut fra fengsel.", "Budsjettet til oppfølging er kuttet.",
             "Beboerne får være med å bestemme.", "NAV og kommunen samarbeider om tildelingen."]
    return pd.DataFrame({"segment_id": [f"s{i}" for i in range(40)], "document": [f"d{i // 10}" for i in range(40)],
                         "start": [i * 100 for i in range(40)], "text": [f"{texts[i % 4]} ({i})" for i in range(40)]})


def test_default_model_sets_its_thresholds_for_the_segments_it_codes():
    import numpy as np

    from qualkit.classify import default_classifier
    from qualkit.classify.context import add_context
    from qualkit.codebook import load_codebook
    from qualkit.coders import make_coder

    segments = _forty_segments()
    coder, messages = make_coder(load_codebook(), segments)
    assert coder.model.thresholds_adapted_to_ == 40
    assert any("thresholds set for these 40 segments" in m for m in messages)
    # scored with their neighbours, as when they are coded
    expected = default_classifier().adapt_thresholds(add_context(segments)).thresholds_
    np.testing.assert_allclose(coder.model.thresholds_, expected)
    cross_validated = default_classifier().thresholds_
    assert not np.allclose(expected, cross_validated)
    few, messages = make_coder(load_codebook(), segments.head(10))  # too few segments to judge by: unchanged
    np.testing.assert_allclose(few.model.thresholds_, cross_validated)
    assert not any("thresholds set" in m for m in messages)
