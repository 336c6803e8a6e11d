"""Tests for qualkit.classify: estimator API, features, persistence and its refusals, labels files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.model_selection import GroupKFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

import qualkit
import qualkit.classify as classify
from qualkit.classify import (
    ClassifierCoder,
    KeywordMatcher,
    LabelsError,
    SegmentClassifier,
    default_classifier,
    load_model,
    read_labels,
    resolve_code,
    save_model,
    stem,
    train_classifier,
)
from qualkit.codebook import load_codebook, parse_codebook
from qualkit.errors import ModelError

DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "gold" / "dev.jsonl"

# Small, readable training material: 8 texts per code, from four "documents".
TEXTS = {
    "bolig": [
        "Kommunen har for få utleieboliger, og ventelistene blir lengre.",
        "Han fikk endelig en egen leilighet etter et år på hospits.",
        "Boligene ligger langt fra sentrum og er i dårlig stand.",
        "Naboene klaget, og hun ble kastet ut av boligen.",
        "Vi trenger flere små boliger til enslige.",
        "Bofellesskapet har seks plasser og alltid fullt belegg.",
        "Mange blir boende i midlertidige botilbud i månedsvis.",
        "Det er vanskelig å skaffe bolig på det private leiemarkedet.",
    ],
    "tjenester": [
        "Miljøterapeuten følger ham opp i boligen tre ganger i uka.",
        "Hun fikk ingen oppfølging etter utskrivning fra behandling.",
        "Det ambulante teamet gir rusbehandling hjemme hos brukeren.",
        "NAV-veilederen hjelper med arbeidstrening og aktivitet.",
        "Han har individuell plan og en fast koordinator.",
        "Døgnbemanning i boligen gjør at beboerne får hjelp om natten.",
        "Psykisk helsetjeneste gir samtaler hver uke.",
        "Botrening handler om å lære å lage mat og betale regninger.",
    ],
    "okonomi": [
        "Kommunen har ikke midler til å finansiere tiltaket.",
        "Husleien er for høy i forhold til bostøtten.",
        "Budsjettet ble kuttet med to millioner kroner.",
        "Han har stor gjeld og får økonomisk rådgivning.",
        "Tilskudd fra Husbanken dekket deler av kostnadene.",
        "Startlån gjorde det mulig å kjøpe en leilighet.",
        "Depositum og sosialhjelp er ofte et problem.",
        "Driftsutgiftene for prosjektet var høyere enn ventet.",
    ],
}
NEGATIVE = [
    "Rapporten bygger på intervjuer og dokumentstudier.",
    "Tabell 3 viser fordelingen etter alder og kjønn.",
    "Metoden er beskrevet i kapittel to.",
    "Deltakerne kom fra fem kommuner på Vestlandet.",
]


@pytest.fixture(scope="module")
def codebook():
    return load_codebook()


@pytest.fixture(scope="module")
def data(codebook):
    names = codebook.code_names
    texts, rows = [], []
    for code, examples in TEXTS.items():
        for text in examples:
            texts.append(text)
            rows.append([int(resolve_code(code, names) == name) for name in names])
    for text in NEGATIVE * 2:
        texts.append(text)
        rows.append([0] * len(names))
    Y = np.array(rows)
    groups = np.arange(len(texts)) % 4
    return texts, Y, groups


@pytest.fixture(scope="module")
def model(codebook, data):
    texts, Y, groups = data
    return SegmentClassifier(codebook, cv=2, min_positives=3).fit(texts, Y, groups=groups)


# -- features ------------------------------------------------------------------------------------------------


def test_stem_joins_inflections():
    assert stem("boligene") == stem("boliger") == stem("bolig")
    assert stem("tjenestene") == stem("tjenester")


def test_keyword_matcher_counts_prefixes_parts_and_skips_traps(codebook):
    matcher = KeywordMatcher(codebook)
    names = codebook.code_names
    econ = names.index(resolve_code("økonomi", names))
    hits = matcher.hits(["Kommunen har ikke midler til dette.", "Et midlertidig tilbud, imidlertid godt."])
    assert hits[0, econ] >= 1
    assert hits[1, econ] == 0
    bolig = names.index("bolig")
    assert matcher.hits(["utleieboligene er fulle"])[0, bolig] >= 1
    assert matcher.hits(["Husbanken var med"])[0, bolig] == 0


def test_resolve_code_accepts_ascii_spelling():
    assert resolve_code("økonomi", ["bolig", "okonomi"]) == "okonomi"
    assert resolve_code("Okonomi", ["bolig", "økonomi"]) == "økonomi"
    assert resolve_code("penger", ["bolig", "økonomi"]) is None


# -- estimator API -------------------------------------------------------------------------------------------


def test_fit_returns_self_and_learned_attributes_end_in_underscore(codebook, data):
    texts, Y, groups = data
    estimator = SegmentClassifier(codebook, cv=2, min_positives=3)
    assert estimator.fit(texts, Y, groups=groups) is estimator
    assert estimator.classes_ == codebook.code_names
    assert estimator.thresholds_.shape == (len(codebook.code_names),)
    assert not any(name.endswith("_") for name in vars(SegmentClassifier(codebook)))


def test_init_only_stores_params_and_clone_keeps_them(codebook):
    estimator = SegmentClassifier(codebook, C=2.5, keyword_weight=0.5)
    params = estimator.get_params()
    assert params["C"] == 2.5 and params["keyword_weight"] == 0.5
    twin = clone(estimator)
    assert twin.get_params()["C"] == 2.5 and twin is not estimator
    twin.set_params(C=7.0)
    assert twin.C == 7.0 and estimator.C == 2.5


def test_predict_shapes_and_ranges(model, codebook):
    probs = model.predict_proba(["Vi mangler boliger og penger.", "Metode og utvalg."])
    assert probs.shape == (2, len(codebook.code_names))
    assert ((probs >= 0) & (probs <= 1)).all()
    pred = model.predict(["Vi mangler boliger og penger."])
    assert set(np.unique(pred)) <= {0, 1}


def test_model_learns_the_obvious(model, codebook):
    names = codebook.code_names
    probs = model.predict_proba(["Det bygges nye kommunale utleieboliger med små leiligheter."])[0]
    assert probs[names.index("bolig")] > probs[names.index("brukermedvirkning")]


def test_works_in_pipeline_and_cross_validation(codebook, data):
    texts, Y, groups = data
    pipeline = Pipeline([
        ("strip", FunctionTransformer(lambda xs: [x.strip() for x in xs])),
        ("classify", SegmentClassifier(codebook, cv=2, min_positives=3)),
    ])
    pipeline.fit(texts, Y)
    assert pipeline.predict(texts[:3]).shape == (3, len(codebook.code_names))
    scores = cross_val_score(SegmentClassifier(codebook, cv=2, min_positives=3), np.array(texts, dtype=object), Y,
                             groups=groups, cv=GroupKFold(n_splits=2))
    assert len(scores) == 2 and np.isfinite(scores).all()


def test_accepts_a_segment_table_and_groups_by_document(codebook, data):
    texts, Y, groups = data
    table = pd.DataFrame({"document": [f"d{g}" for g in groups], "text": texts})
    labels = pd.DataFrame(Y, columns=codebook.code_names)
    estimator = SegmentClassifier(codebook, cv=2, min_positives=3).fit(table, labels)
    assert estimator.predict(table).shape == Y.shape


def test_without_codebook_uses_label_columns(data):
    texts, Y, _ = data
    labels = pd.DataFrame(Y[:, :3], columns=["a", "b", "c"])
    estimator = SegmentClassifier(None, cv=2, min_positives=3).fit(texts, labels)
    assert estimator.classes_ == ["a", "b", "c"]


def test_rejects_bad_input(codebook, data):
    texts, Y, _ = data
    with pytest.raises(ValueError, match="shape"):
        SegmentClassifier(codebook).fit(texts, Y[:, :2])
    with pytest.raises(ValueError, match="0 and 1"):
        SegmentClassifier(codebook).fit(texts, Y * 2)
    with pytest.raises(ValueError, match="single string"):
        SegmentClassifier(codebook).fit("én tekst", Y[:1])


def test_evidence_flags_codes_without_examples(model, codebook):
    weak = model.weak_codes_
    assert "brukermedvirkning" in weak  # no coded examples at all: rests on the codebook alone
    assert set(model.evidence_.columns) >= {"positives", "threshold", "weak_evidence"}


def test_cold_start_from_codebook_only(codebook, tmp_path, monkeypatch):
    monkeypatch.setenv("QUALKIT_CACHE", str(tmp_path))
    monkeypatch.setattr(classify.models, "demo_gold_paths", lambda root=None: [])
    model = default_classifier(codebook, shipped=False)
    assert set(model.weak_codes_) == set(codebook.code_names)
    names = codebook.code_names
    probs = model.predict_proba(["Kommunen kuttet budsjettet og tilskuddene til boligene."])[0]
    econ = names.index(resolve_code("økonomi", names))
    assert probs[econ] > probs[names.index("brukermedvirkning")]
    assert list(tmp_path.glob("models/*.joblib")), "the cold-start model is cached"


# -- the model as a coder ------------------------------------------------------------------------------------


def test_classifier_coder_has_the_coder_interface(model, codebook):
    segments = pd.DataFrame({"segment_id": ["s1", "s2"], "text": ["Vi mangler boliger.", "Metode."]},
                            index=[10, 11])
    coder = ClassifierCoder(model)
    assert coder.name.startswith(f"model:{codebook.name}@{qualkit.__version__}")
    coded = coder.code(segments)
    assert list(coded.index) == [10, 11]
    for code in codebook.code_names:
        assert coded[code].isin([0, 1]).all()
        assert coded[f"{code}_score"].between(0, 1).all()


# -- persistence ---------------------------------------------------------------------------------------------


def test_save_and_load_round_trip(model, codebook, tmp_path):
    path = save_model(model, tmp_path / "model.joblib")
    loaded = load_model(path, codebook)
    texts = ["Kommunen har ikke midler til flere boliger.", "Vi trenger bedre samarbeid med NAV."]
    np.testing.assert_allclose(loaded.predict_proba(texts), model.predict_proba(texts))
    assert ClassifierCoder(loaded).name == ClassifierCoder(model).name


def test_load_refuses_another_codebook(model, tmp_path):
    path = save_model(model, tmp_path / "model.joblib")
    other = parse_codebook(
        "name: annen\nlabel: Annen\ncodes:\n  - name: bolig\n    label: Bolig\n    definition: Boliger.\n"
    )
    with pytest.raises(ModelError, match="codebook"):
        load_model(path, other)


def test_load_refuses_another_qualkit_version(model, tmp_path, monkeypatch):
    path = save_model(model, tmp_path / "model.joblib")
    monkeypatch.setattr(qualkit, "__version__", "99.0.0")
    with pytest.raises(ModelError, match="99.0.0"):
        load_model(path)


def test_load_refuses_other_files(tmp_path):
    junk = tmp_path / "junk.joblib"
    junk.write_text("not a model")
    with pytest.raises(ModelError, match="not a qualkit model"):
        load_model(junk)
    with pytest.raises(ModelError, match="not found"):
        load_model(tmp_path / "missing.joblib")


def test_load_refuses_a_model_of_an_older_format(model, tmp_path):
    """A model saved before the fitted attributes changed (e.g. format 2, without the NB view) is refused with
    what to do, not loaded into an estimator that would fail later."""
    import joblib

    from qualkit.classify.models import MODEL_FORMAT

    path = save_model(model, tmp_path / "old.joblib")
    payload = joblib.load(path)
    payload["format"] = MODEL_FORMAT - 1
    joblib.dump(payload, path)
    with pytest.raises(ModelError, match=f"old.joblib: not a qualkit model file of format {MODEL_FORMAT}; retrain"):
        load_model(path)


# -- labels files --------------------------------------------------------------------------------------------

SEGMENTS = pd.DataFrame({
    "document": ["a.md", "a.md", "b.md"],
    "kommune": ["Bergen", "Bergen", "Alta"],
    "segment_id": ["a-0", "a-1", "b-0"],
    "text": ["Vi mangler boliger.", "Husleien   er for høy.\n", "Metode."],
})


def test_read_labels_by_text_exact_and_whitespace_normalised(codebook, tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text('text,codes\nVi mangler boliger.,bolig\n"Husleien er for høy.",økonomi;bolig\nUkjent tekst,\n',
                    encoding="utf-8")
    with pytest.warns(UserWarning, match="1 of 3"):
        labels = read_labels(path, SEGMENTS, codebook)
    assert labels["segment_id"].tolist() == ["a-0", "a-1", None]
    econ = resolve_code("økonomi", codebook.code_names)
    assert labels.loc[1, econ] == 1 and labels.loc[1, "bolig"] == 1
    assert labels.attrs["unmatched"] == [4]


def test_read_labels_by_segment_id(codebook, tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("segment_id,codes\nb-0,\na-1;tjenester\n".replace(";tjenester", ",tjenester"), encoding="utf-8")
    labels = read_labels(path, SEGMENTS, codebook)
    assert labels["segment_id"].tolist() == ["b-0", "a-1"]
    assert labels.loc[0, codebook.code_names].sum() == 0
    assert labels.loc[1, "tjenester"] == 1
    assert labels.loc[1, "text"] == SEGMENTS.loc[1, "text"]


def test_read_labels_as_excel_on_norwegian_windows_saves_them(codebook, tmp_path):
    """Windows-1252, ';' as delimiter, capitalised headers, codes unquoted (so they spill into extra fields)."""
    path = tmp_path / "labels.csv"
    path.write_bytes('Text;Codes\r\nHusleien   er for høy.;økonomi;bolig\r\nMetode.;\r\n'.encode("cp1252"))
    with pytest.warns(UserWarning, match="not UTF-8; read as Windows-1252"):
        labels = read_labels(path, SEGMENTS, codebook)
    econ = resolve_code("økonomi", codebook.code_names)
    assert labels["segment_id"].tolist() == ["a-1", "b-0"]
    assert labels.loc[0, [econ, "bolig"]].tolist() == [1, 1] and labels.loc[0, "tjenester"] == 0
    assert labels.loc[1, codebook.code_names].sum() == 0


def test_read_labels_refuses_extra_fields_it_cannot_read_as_codes(codebook, tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("codes,text\nbolig,Vi mangler boliger.,og mer\n", encoding="utf-8")
    with pytest.raises(LabelsError, match=r"labels\.csv, line 2: more fields than the header has columns \(og mer\)"):
        read_labels(path, SEGMENTS, codebook)


def test_read_labels_falls_back_on_the_text_when_the_segment_id_is_unknown(codebook, tmp_path):
    """Ids depend on the folder read (a subfolder gives other ids); the text still identifies the segment."""
    path = tmp_path / "labels.csv"
    path.write_text("segment_id,text,codes\nfrom-another-run,Vi mangler boliger.,bolig\nb-0,,\n", encoding="utf-8")
    labels = read_labels(path, SEGMENTS, codebook)
    assert labels["segment_id"].tolist() == ["a-0", "b-0"]
    assert labels.loc[0, "bolig"] == 1


def test_read_labels_unknown_code_names_file_line_and_code(codebook, tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("text,codes\nVi mangler boliger.,bolig\nMetode.,boliger;penger\n", encoding="utf-8")
    with pytest.raises(LabelsError, match=r"labels\.csv, line 3: unknown code 'boliger'; did you mean bolig\?"):
        read_labels(path, SEGMENTS, codebook)
    path.write_text("text,codes\nVi manglar bustader.,brukarmedverknad\nMetode.,kvalitet\n", encoding="utf-8")
    with pytest.raises(LabelsError, match=r"line 2: unknown code 'brukarmedverknad'; did you mean brukermedvirkning\?"):
        read_labels(path, SEGMENTS, codebook)
    path.write_text("text,codes\nMetode.,kvalitet\n", encoding="utf-8")
    with pytest.raises(LabelsError, match=r"unknown code 'kvalitet'; the codebook has bolig, tjenester"):
        read_labels(path, SEGMENTS, codebook)


def test_read_labels_needs_the_right_columns(codebook, tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("tekst,koder\nx,bolig\n", encoding="utf-8")
    with pytest.raises(LabelsError, match="line 1"):
        read_labels(path, SEGMENTS, codebook)


def test_train_classifier_on_read_labels(codebook, data, tmp_path):
    texts, Y, _ = data
    model = train_classifier(texts, Y, codebook, cv=2, min_positives=3)
    assert isinstance(model, SegmentClassifier)
    assert ClassifierCoder(model).code(SEGMENTS).shape[0] == 3


# -- on the real dev gold ------------------------------------------------------------------------------------


@pytest.mark.skipif(not DEV.exists(), reason="../shared/data/gold/dev.jsonl is not available")
def test_generalises_to_an_unseen_report(codebook):
    rows = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    names = codebook.code_names
    table = pd.DataFrame({"document": [r["report"] for r in rows], "text": [r["text"] for r in rows]})
    Y = np.array([[int(n in {resolve_code(c, names) for c in r["codes"]}) for n in names] for r in rows])
    train = (table["document"] != "001").to_numpy()
    model = SegmentClassifier(codebook).fit(table[train], Y[train])
    from sklearn.metrics import f1_score

    f1 = f1_score(Y[~train], model.predict(table[~train]), average="macro")
    assert f1 > 0.6, f"macro-F1 on an unseen report fell to {f1:.2f}"


def test_read_labels_feeds_train_classifier(codebook, tmp_path):
    path = tmp_path / "labels.csv"
    lines = ["segment_id,codes"] + [f"{sid},{code}" for sid, code in
                                    [("a-0", "bolig"), ("a-1", "økonomi"), ("b-0", "")]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    labels = read_labels(path, SEGMENTS, codebook)
    assert labels["document"].tolist() == ["a.md", "a.md", "b.md"]
    model = train_classifier(labels[["document", "text"]], labels[codebook.code_names], codebook)
    assert ClassifierCoder(model).code(SEGMENTS)["bolig"].isin([0, 1]).all()


def test_weak_evidence_message_names_the_weak_codes(model):
    from qualkit.classify import weak_evidence_message

    message = weak_evidence_message(model)
    assert message is not None and "brukermedvirkning (0 coded examples" in message


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_read_labels_delimiters_and_semicolon_separated_codes(codebook, tmp_path, delimiter):
    path = tmp_path / "labels.csv"
    codes = '"bolig;tjenester"' if delimiter == ";" else "bolig;tjenester"
    path.write_text(f"\ufeffsegment_id{delimiter}codes\na-0{delimiter}{codes}\nb-0{delimiter}{codes}\n",
                    encoding="utf-8")
    labels = read_labels(path, SEGMENTS, codebook)
    assert labels["segment_id"].tolist() == ["a-0", "b-0"]
    assert labels[["bolig", "tjenester"]].to_numpy().tolist() == [[1, 1], [1, 1]]


def test_char_ngram_vectorizer_equals_sklearn_tfidf_over_the_same_ngrams():
    """The fast per-word implementation must give scikit-learn's sublinear TF-IDF over the same n-grams."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from qualkit.classify import CharNgramVectorizer, tokenize

    train = ["Boligene er for små, og boligkøen vokser.", "NAV gir oppfølging i boligen.", "Budsjettet er kuttet."]
    test = ["Nye boliger og nytt budsjett.", "Ukjente ord: utleigebustader."]
    ours = CharNgramVectorizer(ngram_range=(3, 4), min_df=1, fold=False)
    reference = TfidfVectorizer(analyzer=lambda t: [g for w in tokenize(t) for g in ours._ngrams(w)],
                                sublinear_tf=True, dtype=np.float64)
    mine_train = ours.fit_transform(train).toarray()
    theirs_train = reference.fit_transform(train).toarray()
    order = [reference.vocabulary_[gram] for gram in ours.vocabulary_]
    np.testing.assert_allclose(mine_train, theirs_train[:, order], atol=1e-6)
    np.testing.assert_allclose(ours.transform(test).toarray(), reference.transform(test).toarray()[:, order], atol=1e-6)


# -- context: a segment's neighbours in its document -------------------------------------------------------------


def test_add_context_orders_by_offset_within_documents_and_keeps_rows():
    from qualkit.classify.context import add_context

    table = pd.DataFrame({"document": ["a", "b", "a", "a"], "start": [50, 0, 0, 20], "text": ["A3", "B1", "A1", "A2"]},
                         index=[10, 11, 12, 13])
    out = add_context(table)
    assert out.index.tolist() == [10, 11, 12, 13] and out["text"].tolist() == table["text"].tolist()
    assert out["previous_text"].tolist() == ["A2", "", "", "A1"]
    assert out["next_text"].tolist() == ["", "", "A2", "A3"]
    assert add_context(table.drop(columns="document"))["previous_text"].eq("").all()


def test_context_lets_neighbours_inform_a_neutral_segment(codebook):
    """A reply such as "Ja, det stemmer." is coded from the stretch of conversation it sits in."""
    from qualkit.classify.context import add_context

    gold = add_context(classify.read_gold_jsonl(classify.demo_gold_paths(), codebook))
    model = SegmentClassifier(codebook).fit(gold, gold[codebook.code_names])
    assert model.context_
    econ = codebook.code_names.index(resolve_code("økonomi", codebook.code_names))
    neutral = "Ja, det stemmer, sånn er det."
    about_money = ("Husleien er altfor høy, og bostøtten dekker ikke depositum.",
                   "Kommunen har kuttet budsjettet og har ingen midler til tilskudd.")
    about_people = ("Vi var på tur i helgen, det var fint vær.", "Kaffen er klar, forresten.")
    table = pd.DataFrame({"text": [neutral, neutral], "previous_text": [about_money[0], about_people[0]],
                          "next_text": [about_money[1], about_people[1]]})
    probs = model.predict_proba(table)
    assert probs[0, econ] > probs[1, econ] + 0.1
    # without context columns, the same model scores the text on its own (no neighbours)
    alone = model.predict_proba([neutral])
    assert probs[1, econ] - 0.05 <= alone[0, econ] <= probs[0, econ] + 0.05
    assert not SegmentClassifier(codebook, context=False).fit(gold, gold[codebook.code_names]).context_


def test_read_labels_carries_the_segments_neighbours(codebook, tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("segment_id,codes\na-1,bolig\n", encoding="utf-8")
    labels = read_labels(path, SEGMENTS, codebook)
    assert labels.loc[0, "previous_text"] == SEGMENTS.loc[0, "text"]
    assert labels.loc[0, "next_text"] == ""


def test_second_stage_inputs_follow_the_switches(codebook, data):
    """Keyword evidence (4), the other codes' scores (k - 1) and two neighbour scores, each switchable."""
    texts, Y, groups = data
    table = pd.DataFrame({"text": texts, "document": groups, "previous_text": [""] + texts[:-1],
                          "next_text": texts[1:] + [""]})
    k = len(codebook.code_names)
    widths = {}
    for name, params in {"all": {}, "no codes": {"stack_codes": False}, "no context": {"context": False}}.items():
        model = SegmentClassifier(codebook, cv=2, min_positives=3, **params).fit(table, Y)
        widths[name] = {s.coef_.shape[1] for s in model.stackers_ if s is not None}
    assert widths == {"all": {4 + (k - 1) + 2}, "no codes": {4 + 2}, "no context": {4 + (k - 1)}}


def test_log_count_ratios_by_hand():
    """Feature 0 only in positives, feature 1 in both, feature 2 only in the negative (add-one smoothing)."""
    from qualkit.classify.estimator import _log_count_ratios

    features = sp.csr_matrix(np.array([[1.0, 0.5, 0.0], [2.0, 1.0, 0.0], [0.0, 3.0, 1.0]]))
    y = np.array([1, 1, 0])
    ratios = _log_count_ratios(features, y, np.ones(3))
    positive, negative = np.array([3.0, 3.0, 1.0]), np.array([1.0, 2.0, 2.0])  # presence counts + 1
    assert np.allclose(ratios, np.log((positive / 7) / (negative / 5)))
    assert ratios[0] > ratios[1] > ratios[2]


def test_nb_view_averages_a_plain_and_a_scaled_regression(codebook, data):
    texts, Y, groups = data
    both = SegmentClassifier(codebook, cv=2, min_positives=3).fit(texts, Y, groups=groups)
    plain = SegmentClassifier(codebook, cv=2, min_positives=3, nb_view=False).fit(texts, Y, groups=groups)
    j = codebook.code_names.index("bolig")
    pair, alone = both.estimators_[j], plain.estimators_[j]
    features = both._featurise(texts)[0]  # the columns the estimators were fitted on
    # the pair's first model is the plain regression; its score is the mean of the two views
    assert np.allclose(pair.models[0].coef_, alone.coef_, atol=1e-4)  # liblinear: solver tolerance
    assert np.allclose(pair.decision_function(features),
                       (pair.models[0].decision_function(features) + pair.models[1].decision_function(features)) / 2)
    # the scaled view's weights, expressed on the raw features, differ from the plain ones
    assert not np.allclose(pair.models[1].coef_, alone.coef_)
    assert both.predict_proba(texts)[:, j][: len(TEXTS["bolig"])].mean() > 0.5


# -- sub-codes, aliases, codebooks of one or two codes, repeated label rows ------------------------------------

HIERARCHY = """
name: velferd
label: Velferd
codes:
  - name: bustad
    label: Bustad
    aliases: [husvaere]
    definition: Bustaden og butilbodet.
    keywords: [bustad*, bolig*]
  - name: pengar
    label: Pengar
    definition: Pengar på to nivå.
    subcodes:
      - name: pengar_kommune
        aliases: [kommuneokonomi]
        label: Kommunen sine pengar
        definition: Budsjett, tilskot og kutt i kommunen.
        keywords: [budsjett*, tilskot*]
        examples:
          - tekst: Tilskotet frå staten tok slutt i fjor.
          - tekst: Kommunestyret møtest kvar tysdag.
            gjelder: false
      - name: pengar_person
        label: Personen sine pengar
        definition: Husleige, gjeld og inntekt.
        keywords: [husleige*, gjeld*]
        not_keywords: [gjelde, gjelder]
"""


@pytest.fixture(scope="module")
def hierarchy():
    return parse_codebook(HIERARCHY)


def test_subcode_keywords_and_texts_count_for_the_parent_code(hierarchy):
    hits = KeywordMatcher(hierarchy).hits(["Budsjettet vart kutta.", "Husleiga og gjelda aukar.", "Det gjelder alle."])
    assert hits[:, 1].tolist() == [1, 1, 0]
    texts, labels = classify.codebook_examples(hierarchy)
    pengar = {text for text, row in zip(texts, labels, strict=True) if row[1] == 1}
    assert "Kommunen sine pengar. Budsjett, tilskot og kutt i kommunen." in pengar
    assert "Tilskotet frå staten tok slutt i fjor." in pengar
    assert any("husleige" in text and "budsjett" in text for text in pengar)  # the keyword text
    assert "Kommunestyret møtest kvar tysdag." not in texts  # a sub-code's near miss may be a sibling's


def test_read_labels_accepts_aliases_and_subcodes_as_their_top_level_code(hierarchy, tmp_path):
    segments = pd.DataFrame({"segment_id": ["a-0", "a-1", "a-2"], "document": "a.md",
                             "text": ["Vi har få bustader.", "Husleiga er høg.", "Budsjettet vart kutta."]})
    path = tmp_path / "labels.csv"
    path.write_text("segment_id,codes\na-0,husvaere\na-1,pengar_person\na-2,Kommuneokonomi;pengar_person\n",
                    encoding="utf-8")
    with pytest.warns(UserWarning, match="sub-codes count as their top-level code") as caught:
        labels = read_labels(path, segments, hierarchy)
    assert labels[["bustad", "pengar"]].to_numpy().tolist() == [[1, 0], [0, 1], [0, 1]]
    notes = [str(w.message) for w in caught if "sub-codes" in str(w.message)]
    assert len(notes) == 1 and "pengar_person → pengar (lines 3, 4)" in notes[0]
    assert "kommuneokonomi → pengar (line 4)" in notes[0]
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"text": "Husleiga er høg.", "codes": ["pengar_person", "husvaere"]}) + "\n",
                    encoding="utf-8")
    with pytest.warns(UserWarning, match="sub-codes count"):
        coded = classify.read_gold_jsonl([gold], hierarchy)
    assert coded[["bustad", "pengar"]].to_numpy().tolist() == [[1, 1]]


def test_read_labels_a_repeated_segment_counts_once_with_its_last_row(codebook, tmp_path):
    """A corrected row appended to the file replaces the earlier one (by segment_id, or by text)."""
    path = tmp_path / "labels.csv"
    path.write_text("segment_id,text,codes\na-0,,bolig\na-1,,okonomi\n,Vi mangler boliger.,\nb-0,,\n"
                    ",Ukjent tekst,bolig\n,Ukjent   tekst,tjenester\n", encoding="utf-8")
    with pytest.warns(UserWarning) as caught:
        labels = read_labels(path, SEGMENTS, codebook)
    messages = [str(w.message) for w in caught]
    assert any("2 segments are listed more than once; the last row counts (lines 2 and 4; 6 and 7)" in m
               for m in messages)
    assert labels["line"].tolist() == [3, 4, 5, 7]
    assert labels["segment_id"].tolist() == ["a-1", "a-0", "b-0", None]
    assert labels.loc[1, codebook.code_names].sum() == 0  # the later row: no code
    assert labels.loc[3, "tjenester"] == 1 and labels.loc[3, "bolig"] == 0
    assert labels.attrs["repeated"] == [[2, 4], [6, 7]] and labels.attrs["unmatched"] == [7]


FEW_CODES = """
name: faa
label: Få kodar
codes:
  - name: bolig
    label: Bolig
    definition: Boligen og botilbudet, mangel på boliger og ventelister.
    keywords: [bolig*, bustad*, leilighet*]
    examples:
      - tekst: Det er for få leiligheter i kommunen.
  - name: penger
    label: Økonomi
    definition: Penger, budsjett, husleie og gjeld.
    keywords: [budsjett*, husleie*, gjeld*, tilskudd*]
    examples:
      - tekst: Budsjettet ble kuttet med to millioner.
"""


@pytest.mark.parametrize("n_codes", [1, 2])
def test_the_cold_start_for_one_or_two_codes_can_code_none(n_codes, tmp_path, monkeypatch):
    """Without text that fits no code, a two-code model is a forced choice and a one-code model codes nearly all."""
    monkeypatch.setenv("QUALKIT_CACHE", str(tmp_path))
    book = parse_codebook(FEW_CODES if n_codes == 2 else FEW_CODES.split("  - name: penger")[0])
    model = default_classifier(book, cache=False)
    off_topic = ["Ok, da sier vi det sånn.", "Hvor lenge har du jobbet her?", "Kan du utdype litt?",
                 "Det var en fin tur hit i dag.", "Eg trur ikkje det, nei."]
    on_topic = ["Vi har altfor få boliger til unge.", "Husleien er for høy, og budsjettet er stramt."]
    coded = model.predict(off_topic + on_topic)
    assert coded[: len(off_topic)].sum() == 0
    assert coded[len(off_topic), 0] == 1
    if n_codes == 2:
        assert coded[len(off_topic) + 1].tolist() == [0, 1]
