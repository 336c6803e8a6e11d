"""Tests for qualkit.nlp: loader fallback order, the bundled pipeline, and the NDT → spaCy conversion.

The NDT fixtures under tests/data/ndt/ are sentences written for these tests (not NDT text).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
import spacy
from spacy.tokens import Doc

from qualkit import nlp as qnlp
from qualkit.nlp import convert as cv
from qualkit.nlp import variety

from conftest import SHARED, needs_shared

FIXTURES = Path(__file__).parent / "data" / "ndt"
NORNE = SHARED / "data" / "norne"
BUNDLED = qnlp.BUNDLED_PIPELINE
# The bundled pipeline is part of the package, so its tests fail (not skip) when it is missing.
needs_bundled = pytest.mark.usefixtures("_bundled_present")
any_installed = any(__import__("importlib").util.find_spec(p) for p in qnlp.INSTALLED_PACKAGES)


@pytest.fixture(autouse=True)
def _fresh_loader(monkeypatch):
    """Each test starts with an empty loader cache and no QUALKIT_PIPELINE override."""
    monkeypatch.delenv(qnlp.ENV_VAR, raising=False)
    qnlp.clear_cache()
    yield
    qnlp.clear_cache()


@pytest.fixture
def _bundled_present():
    assert (BUNDLED / "meta.json").is_file(), (
        f"no bundled pipeline at {BUNDLED}; build it with `qualkit nlp train --data ../shared/data/norne`"
    )


def _sents(lang: str) -> list[cv.Sentence]:
    return list(cv.read_conll(FIXTURES / lang / "qk-test001_0000.conll"))


def _mapped(sent: cv.Sentence) -> list[tuple[str, str, str, str]]:
    return [(t.form, *cv.map_token(sent, i)) for i, t in enumerate(sent.tokens)]


# --------------------------------------------------------------------------------------------------
# Conversion


def test_mapping_nouns_aux_and_propn():
    rows = _mapped(_sents("nob")[0])
    assert rows == [
        ("Kommunen", "NOUN", "Definite=Def|Gender=Masc|Number=Sing", "kommune"),
        ("har", "AUX", "Mood=Ind|Tense=Pres|VerbForm=Fin", "ha"),
        ("bygget", "VERB", "VerbForm=Part", "bygge"),
        ("nye", "ADJ", "Degree=Pos|Number=Plur", "ny"),
        ("boliger", "NOUN", "Definite=Ind|Gender=Masc|Number=Plur", "bolig"),
        ("i", "ADP", "", "i"),
        ("Bergen", "PROPN", "", "Bergen"),
        (".", "PUNCT", "", "."),
    ]


def test_mapping_copula_negation_article_sconj():
    rows = {form: (upos, feats) for form, upos, feats, _ in _mapped(_sents("nob")[1])}
    assert rows["er"] == ("AUX", "Mood=Ind|Tense=Pres|VerbForm=Fin")  # copula: være with SPRED
    assert rows["ikke"] == ("PART", "Polarity=Neg")
    assert rows["en"] == ("DET", "Gender=Masc|Number=Sing|PronType=Art")
    assert rows["at"] == ("SCONJ", "")
    assert rows["det"] == ("PRON", "Gender=Neut|Number=Sing|Person=3|PronType=Prs")
    assert rows["å"] == ("PART", "")
    assert rows["sier"][0] == "VERB"


def test_mapping_clausal_preposition_relative_som_num_and_possessive():
    rows = {form: (upos, feats) for form, upos, feats, _ in _mapped(_sents("nob")[2])}
    assert rows["for"] == ("SCONJ", "")  # "for å": preposition introducing a clause
    assert rows["som"] == ("PRON", "PronType=Rel")
    assert rows["Hun"] == ("PRON", "Animacy=Hum|Case=Nom|Gender=Fem|Number=Sing|Person=3|PronType=Prs")
    assert rows["«"][0] == "PUNCT"
    rows = {form: (upos, feats) for form, upos, feats, _ in _mapped(_sents("nob")[3])}
    assert rows["Tre"] == ("NUM", "Number=Plur|NumType=Card")
    assert rows["sine"] == ("PRON", "Number=Plur|Poss=Yes|PronType=Prs")
    assert rows["fikk"][0] == "VERB"  # få without an infinitive is a main verb


def test_mapping_nynorsk_definite_and_verte():
    rows = _mapped(_sents("nno")[0])
    assert rows[0] == ("Bustadene", "NOUN", "Definite=Def|Gender=Masc|Number=Plur", "bustad")
    assert rows[3][:2] == ("vart", "VERB")  # UD Nynorsk tags "verte" as VERB
    rows = {form: (upos, feats) for form, upos, feats, _ in _mapped(_sents("nno")[1])}
    assert rows["ikkje"] == ("PART", "Polarity=Neg")
    assert rows["har"][0] == "AUX"
    rows = {form: upos for form, upos, _, _ in _mapped(_sents("nno")[2])}
    assert rows["må"] == "AUX" and rows["byggje"] == "VERB" and rows["?"] == "PUNCT"


def test_spacing_is_reconstructed():
    doc = cv.sentences_to_doc(spacy.blank("nb").vocab, _sents("nob"))
    assert doc.text.startswith("Kommunen har bygget nye boliger i Bergen. Lederen i Trondheim kommune, Kari")
    assert "Hun jobber for å hjelpe folk som trenger «bostøtte» (NAV). Tre" in doc.text
    assert cv.space_after(['"', "Ja", '"', ",", "sa", "hun"]) == [False, False, False, True, True, True]


def test_doc_has_sentences_entities_pos_and_lemmas():
    doc = cv.sentences_to_doc(spacy.blank("nb").vocab, _sents("nob"))
    assert [s.text.split()[0] for s in doc.sents] == ["Kommunen", "Lederen", "Hun", "Tre"]
    assert [(e.text, e.label_) for e in doc.ents] == [
        ("Bergen", "GPE_LOC"),
        ("Trondheim kommune", "GPE_ORG"),
        ("Kari Nordmann", "PER"),
        ("NAV", "ORG"),
    ]
    assert doc[0].pos_ == "NOUN" and doc[0].lemma_ == "kommune"
    assert str(doc[0].morph) == "Definite=Def|Gender=Masc|Number=Sing"


def test_doc_keeps_the_ndt_trees():
    doc = cv.sentences_to_doc(spacy.blank("nb").vocab, _sents("nob"))
    first = list(doc.sents)[0]
    assert [(t.text, t.dep_, t.head.text) for t in first] == [
        ("Kommunen", "SUBJ", "har"),
        ("har", "ROOT", "har"),
        ("bygget", "INFV", "har"),
        ("nye", "ATR", "boliger"),
        ("boliger", "DOBJ", "bygget"),
        ("i", "ADV", "bygget"),
        ("Bergen", "PUTFYLL", "i"),
        (".", "IP", "har"),
    ]
    assert all(t.head.sent == t.sent for t in doc)  # heads never cross a sentence boundary


def test_head_outside_the_sentence_names_file_and_token(tmp_path):
    path = tmp_path / "bad.conll"
    path.write_text("1\tJa\tja\tinterj\tinterj\t_\t0\tINTERJ\t_\tname=O\n"
                    "2\t.\t$.\tclb\tclb\t<punkt>\t7\tIP\t_\tname=O\n\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.conll:1: token 2 \('\.'\) has head 7"):
        cv.sentences_to_doc(spacy.blank("nb").vocab, list(cv.read_conll(path)))


def test_stray_inside_tag_starts_an_entity(tmp_path):
    path = tmp_path / "x.conll"
    path.write_text(
        "1\tI\ti\tprep\tprep\t_\t0\tADV\t_\tname=O\n2\tOslo\tOslo\tsubst\tsubst\tprop\t1\tPUTFYLL\t_\tname=I-GPE_LOC\n\n"
    )
    doc = cv.sentences_to_doc(spacy.blank("nb").vocab, list(cv.read_conll(path)))
    assert [(e.text, e.label_) for e in doc.ents] == [("Oslo", "GPE_LOC")]


def test_read_conll_error_names_file_and_line(tmp_path):
    path = tmp_path / "bad.conll"
    path.write_text("1\tJa\tja\tinterj\tinterj\t_\t0\tFRAG\t_\tname=O\n2\tnei\tnei\n\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.conll:2: expected 10"):
        list(cv.read_conll(path))


def _fake_norne(root: Path) -> Path:
    """A NorNE-shaped tree: each fixture sentence in its own NDT file; UD dev = nob file 1 + nno file 2,
    UD test = nob file 2 (with the headline-final "|" dropped, as UD does)."""
    for lang in cv.LANGS:
        (root / "ndt" / lang).mkdir(parents=True)
        (root / "ud" / lang).mkdir(parents=True)
        for i, sent in enumerate(_sents(lang)):
            lines = [
                "\t".join([str(t.id), t.form, t.lemma, t.pos, t.pos, t.feats, str(t.head), t.deprel, "_", t.misc])
                for t in sent.tokens
            ]
            (root / "ndt" / lang / f"doc{i}.conll").write_text("\n".join(lines) + "\n\n", encoding="utf-8")

    def ud(sent: cv.Sentence) -> str:
        rows = [f"{t.id}\t{t.form}\t{t.lemma}\tX\t_\t_\t0\tdep\t_\t_" for t in sent.tokens if t.form != "|"]
        return "# text = " + " ".join(sent.words) + "\n" + "\n".join(rows) + "\n\n"

    nob, nno = _sents("nob"), _sents("nno")
    (root / "ud/nob/no_bokmaal-ud-dev.conllu").write_text(ud(nob[1]), encoding="utf-8")
    (root / "ud/nob/no_bokmaal-ud-test.conllu").write_text(ud(nob[2]), encoding="utf-8")
    (root / "ud/nno/no_nynorsk-ud-dev.conllu").write_text(ud(nno[2]), encoding="utf-8")
    (root / "ud/nno/no_nynorsk-ud-test.conllu").write_text("", encoding="utf-8")
    return root


def test_derive_splits_by_sentence_matching(tmp_path):
    splits = cv.derive_splits(_fake_norne(tmp_path))
    nob, nno = splits["langs"]["nob"], splits["langs"]["nno"]
    assert (nob["train"], nob["dev"], nob["test"]) == (["doc0.conll", "doc3.conll"], ["doc1.conll"], ["doc2.conll"])
    assert (nno["train"], nno["dev"], nno["test"]) == (["doc0.conll", "doc1.conll"], ["doc2.conll"], [])
    assert nob["ud_sentence_matches"]["test"]["exact_unique"] == 1


def test_convert_writes_docbins(tmp_path):
    root = _fake_norne(tmp_path / "norne")
    splits = cv.derive_splits(root)
    paths = cv.convert(root, tmp_path / "corpus", splits=splits, doc_size=2)
    nlp = spacy.blank("nb")
    train = list(spacy.tokens.DocBin().from_disk(paths["train"]).get_docs(nlp.vocab))
    assert sum(len(list(d.sents)) for d in train) == 4  # nob doc0, doc3 + nno doc0, doc1
    assert {e.label_ for d in train for e in d.ents} == {"GPE_LOC"}
    assert all(t.pos_ for d in train for t in d)


# --------------------------------------------------------------------------------------------------
# Bokmål/Nynorsk detection


def test_detect_variety():
    nlp = spacy.blank("nb")
    assert variety.detect_variety(nlp("Jeg vet ikke hva de gjør med hele saken.")) == "nob"
    assert variety.detect_variety(nlp("Eg veit ikkje kva dei gjer med heile saka.")) == "nno"
    assert variety.detect_variety(nlp("Oslo og Bergen.")) is None


def test_variety_component_harmonises_lemmas():
    nlp = spacy.blank("nb")
    nlp.add_pipe("qualkit_variety")
    words = ["Eg", "veit", "ikkje", "kva", "som", "er", "rett", "."]
    doc = nlp.make_doc(" ".join(words))
    for token in doc:
        token.lemma_ = {"er": "være", "Eg": "jeg"}.get(token.text, token.text.lower())
    doc = nlp.get_pipe("qualkit_variety")(doc)
    assert doc._.variety == "nno"
    assert [t.lemma_ for t in doc][:6] == ["eg", "veit", "ikkje", "kva", "som", "vere"]


def test_a_sentence_initial_capital_is_not_part_of_a_common_word_s_lemma():
    nlp = spacy.blank("nb")
    words = ["Bustadene", "er", "dyre", ".", "Bergen", "bygger", ".", "NAV", "hjelper", ".", "Dei", "Leilegheitene"]
    pos = ["NOUN", "AUX", "ADJ", "PUNCT", "PROPN", "VERB", "PUNCT", "NOUN", "VERB", "PUNCT", "PRON", "NOUN"]
    doc = Doc(nlp.vocab, words=words, pos=pos, lemmas=["Bustad", "vere", "dyr", ".", "Bergen", "byggje", ".",
                                                      "NAV", "hjelpe", ".", "Dei", "Leilegheit"],
              sent_starts=[True, False, False, False, True, False, False, True, False, False, True, False])
    doc = variety.harmonise_lemmas(doc)
    lemmas = [t.lemma_ for t in doc]
    assert lemmas[0] == "bustad" and lemmas[10] == "dei"  # common words: the capital was the sentence's
    assert lemmas[4] == "Bergen" and lemmas[7] == "NAV"  # a proper noun and an acronym keep theirs
    assert lemmas[11] == "Leilegheit"  # not sentence-initial: left to the lemmatizer
    untagged = Doc(nlp.vocab, words=["Bergen", "bygger"], lemmas=["Bergen", "byggje"], sent_starts=[True, False])
    assert variety.harmonise_lemmas(untagged)[0].lemma_ == "Bergen"  # no tags (fast pipeline): unchanged


def test_the_variety_component_runs_after_the_senter():
    nlp = spacy.blank("nb")
    for name in ("trainable_lemmatizer", "senter"):
        nlp.add_pipe(name)
    variety.add_to(nlp)
    assert nlp.pipe_names == ["trainable_lemmatizer", "senter", "qualkit_variety"]


# --------------------------------------------------------------------------------------------------
# Loader


def test_blank_fallback_warns_what_is_lost_and_lemmatises(monkeypatch):
    monkeypatch.setenv(qnlp.ENV_VAR, "blank")
    with pytest.warns(UserWarning, match="no named entities .*kommune-mention detection.*lookup lemmas"):
        nlp = qnlp.load()
    assert qnlp.pipeline_info(nlp)["source"] == "blank"
    doc = nlp("Boligene i Bergen var dyre. Kommunen sa nei.")
    assert [t.lemma_ for t in doc][:4] == ["bolig", "i", "Bergen", "være"]
    assert doc[6].lemma_ == "kommune"
    assert len(list(doc.sents)) == 2


@pytest.mark.skipif(any_installed, reason="an nb_core_news package is installed and takes precedence")
def test_hidden_bundled_model_falls_back_to_blank(monkeypatch, tmp_path):
    monkeypatch.setenv(qnlp.ENV_VAR, str(tmp_path / "no-such-pipeline"))
    with pytest.warns(UserWarning, match="no bundled pipeline at .*no-such-pipeline"):
        nlp = qnlp.load()
    assert nlp.pipe_names == ["sentencizer", "qualkit_lookup_lemmatizer"]


def test_explicit_missing_pipeline_is_an_error(tmp_path):
    with pytest.raises(OSError, match="neither an installed package nor a directory"):
        qnlp.load(str(tmp_path / "missing"))


def test_load_is_cached(monkeypatch):
    monkeypatch.setenv(qnlp.ENV_VAR, "blank")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = qnlp.load()
        assert qnlp.load() is first
        assert qnlp.load_fast() is not first


@needs_bundled
@pytest.mark.skipif(any_installed, reason="an nb_core_news package is installed and takes precedence")
def test_bundled_pipeline_is_found():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback warning
        nlp = qnlp.load()
    info = qnlp.pipeline_info(nlp)
    assert info["source"] == "bundled"
    assert info["name"] == "nb_qualkit_core"
    assert {"morphologizer", "trainable_lemmatizer", "senter", "ner"} <= set(info["components"])
    assert info["accuracy"]["lemma_acc"] > 0.9


@needs_bundled
def test_bundled_lemmas_bokmaal_and_nynorsk():
    nlp = qnlp.load(BUNDLED)
    doc = nlp("Boligene i sentrum er dyre, og mange familier har flyttet ut av kommunen.")
    lemmas = {t.text: t.lemma_ for t in doc}
    assert lemmas["Boligene"] == "bolig"
    assert lemmas["familier"] == "familie"
    assert lemmas["kommunen"] == "kommune"
    assert lemmas["har"] == "ha"
    doc = nlp("Bustadene i sentrum er dyre, og mange familiar har flytta ut av kommunen.")
    lemmas = {t.text: t.lemma_ for t in doc}
    assert lemmas["Bustadene"] == "bustad"
    assert lemmas["kommunen"] == "kommune"


@needs_bundled
def test_bundled_lemma_of_er_follows_the_written_standard():
    nlp = qnlp.load(BUNDLED)
    doc = nlp("Jeg tror ikke at det er noen som vet hva som er best for byen.")
    assert doc._.variety == "nob" and {t.lemma_ for t in doc if t.text == "er"} == {"være"}
    doc = nlp("Eg trur ikkje at det er nokon som veit kva som er best for byen.")
    assert doc._.variety == "nno" and {t.lemma_ for t in doc if t.text == "er"} == {"vere"}


@needs_bundled
def test_bundled_entities_pos_and_sentences():
    nlp = qnlp.load(BUNDLED)
    doc = nlp("Bergen kommune har bygget nye boliger. Ordføreren i Trondheim er fornøyd med det.")
    ents = {e.text: e.label_ for e in doc.ents}
    assert ents.get("Bergen kommune", ents.get("Bergen", "")).startswith("GPE")
    assert ents.get("Trondheim", "").startswith("GPE")
    assert [s.text.split()[0] for s in doc.sents] == ["Bergen", "Ordføreren"]
    assert doc[2].pos_ == "AUX" and doc[3].pos_ == "VERB" and doc[5].pos_ == "NOUN"
    doc = nlp("Ordføraren i Volda meiner kommunen må byggje fleire bustader.")
    assert {e.text: e.label_ for e in doc.ents}.get("Volda", "").startswith("GPE")


@needs_bundled
def test_fast_configuration_keeps_sentences_and_lemmas():
    nlp = qnlp.load_fast(BUNDLED)
    assert "ner" not in nlp.pipe_names and "morphologizer" not in nlp.pipe_names
    doc = nlp("Boligene er dyre. Kommunen gjør lite.")
    assert [t.lemma_ for t in doc][0] == "bolig"
    assert len(list(doc.sents)) == 2


@needs_bundled
def test_bundled_meta_records_accuracy_and_license():
    meta = json.loads((BUNDLED / "meta.json").read_text(encoding="utf-8"))
    assert "CC0" in meta["license"]
    scores = meta["qualkit_benchmark"]["scores"]["test"]
    assert set(scores) == {"nob", "nno"}
    assert meta["vectors"]["width"] == 0
    size = sum(f.stat().st_size for f in BUNDLED.rglob("*") if f.is_file())
    assert size < 30_000_000


# --------------------------------------------------------------------------------------------------
# Checks against the shared NorNE data


@needs_shared
def test_mapping_agrees_with_ud_dev():
    agreement = cv.mapping_agreement(NORNE)
    assert agreement["nob"]["upos"] > 99 and agreement["nob"]["feats"] > 99
    assert agreement["nno"]["upos"] > 97.5 and agreement["nno"]["feats"] > 98


@needs_shared
def test_shipped_splits_never_train_on_ud_test_sentences():
    splits = cv.load_splits()
    for lang in cv.LANGS:
        test_keys = {cv.sentence_key(s.words) for s in cv.read_conll(cv.ud_file(NORNE, lang, "test"))}
        per_file = {
            name: {cv.sentence_key(s.words) for s in cv.read_conll(NORNE / "ndt" / lang / name)}
            for split in ("train", "dev", "test")
            for name in splits["langs"][lang][split]
        }
        in_test_files = set().union(*(per_file[n] for n in splits["langs"][lang]["test"]))
        for name in splits["langs"][lang]["train"]:
            leaked = (per_file[name] & test_keys) - in_test_files
            assert not leaked, f"{lang}/{name} contains UD test sentences {sorted(leaked)[:3]}"


@needs_shared
def test_shipped_splits_match_a_fresh_derivation():
    assert cv.derive_splits(NORNE)["langs"] == cv.load_splits()["langs"]


@needs_bundled
def test_restore_tree2label_callback_rebuilds_the_lemmatizer_index():
    from qualkit.nlp.train import restore_tree2label

    nlp = spacy.load(BUNDLED)
    lemmatizer = nlp.get_pipe("trainable_lemmatizer")
    lemmatizer.tree2label.clear()  # the state spaCy 3.8 leaves after loading from disk
    restore_tree2label()(nlp)
    assert len(lemmatizer.tree2label) == len(lemmatizer.labels) > 100
    assert all(lemmatizer.labels[label] == tree for tree, label in lemmatizer.tree2label.items())


def _headline_file(tmp_path: Path, n: int) -> Path:
    """``n`` pairs of (headline ending in NDT's ``|`` marker, ordinary sentence)."""
    rows = []
    for i in range(n):
        rows.append(f"1\tNytt\tny\tadj\tadj\tpos|nøyt|ub|eint\t2\tATR\t_\tname=O\n"
                    f"2\ttiltak{i}\ttiltak\tsubst\tsubst\tnøyt|appell|ub|eint\t0\tFRAG\t_\tname=O\n"
                    "3\t|\t$|\tclb\tclb\t<overskrift>\t2\tIP\t_\tname=O\n")
        rows.append("1\tDet\tdet\tpron\tpron\tpers|3|nøyt|eint\t2\tSUBJ\t_\tname=O\n"
                    "2\tvirker\tvirke\tverb\tverb\tpres\t0\tFINV\t_\tname=O\n"
                    "3\t.\t$.\tclb\tclb\t<punkt>\t2\tIP\t_\tname=O\n")
    path = tmp_path / "headlines.conll"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_headline_marker_becomes_a_line_break_or_a_space(tmp_path):
    sents = list(cv.read_conll(_headline_file(tmp_path, 12)))
    breaks = spaces = 0
    for pair in cv.chunk(sents, 2):
        doc = cv.sentences_to_doc(spacy.blank("nb").vocab, pair)
        assert "|" not in doc.text  # NDT's pseudo-token: neither UD nor real text has it
        assert [s.text.strip() for s in doc.sents] == [pair[0].words[0] + " " + pair[0].words[1], "Det virker."]
        if "\n" in doc.text:
            breaks += 1
            newline = next(t for t in doc if t.is_space)
            assert newline.pos_ == "SPACE" and not newline.is_sent_start and newline.ent_type_ == ""
            assert newline.head.i == newline.i - 1 and newline.dep_ == "IP"  # ends the headline
        else:
            spaces += 1
    assert breaks and spaces  # both layouts are learnt


def test_ud_paragraph_layout_puts_new_paragraphs_on_new_lines(tmp_path):
    path = tmp_path / "x.conllu"
    path.write_text(
        "# newpar\n# text = Ny plan\n1\tNy\tny\tADJ\t_\t_\t2\tamod\t_\t_\n2\tplan\tplan\tNOUN\t_\t_\t0\troot\t_\t_\n\n"
        "# newpar\n# text = Den virker.\n1\tDen\tden\tPRON\t_\t_\t2\tnsubj\t_\t_\n"
        "2\tvirker\tvirke\tVERB\t_\t_\t0\troot\t_\tSpaceAfter=No\n3\t.\t.\tPUNCT\t_\t_\t2\tpunct\t_\t_\n\n",
        encoding="utf-8",
    )
    sents = list(cv.read_conll(path))
    assert "newpar" in sents[1].meta
    vocab = spacy.blank("nb").vocab
    assert cv.sentences_to_doc(vocab, sents, ud=True).text == "Ny plan Den virker."
    lines = cv.sentences_to_doc(vocab, sents, ud=True, layout="paragraphs")
    assert lines.text == "Ny plan\nDen virker."
    assert [s.text.strip() for s in lines.sents] == ["Ny plan", "Den virker."]
    with pytest.raises(ValueError, match="layout"):
        cv.sentences_to_doc(vocab, sents, ud=True, layout="pages")


def test_the_final_run_reads_the_train_and_the_dev_docbins(tmp_path):
    """The shipped pipeline is trained on NDT train + dev: spaCy's corpus reader must see every doc of both."""
    from spacy.tokens import DocBin
    from spacy.training import Corpus

    from qualkit.nlp.train import _train_and_dev

    nlp = spacy.blank("nb")
    corpus = {}
    for split, words in (("train", ["Bergen", "Volda", "Alta"]), ("dev", ["Kinn", "Sola"])):
        corpus[split] = tmp_path / f"{split}.spacy"
        DocBin(docs=[nlp.make_doc(f"Vi bor i {word}.") for word in words]).to_disk(corpus[split])
    directory = _train_and_dev(corpus, tmp_path / "final")
    texts = sorted(example.reference.text for example in Corpus(directory)(nlp))
    assert texts == sorted(f"Vi bor i {w}." for w in ["Bergen", "Volda", "Alta", "Kinn", "Sola"])
    assert _train_and_dev(corpus, tmp_path / "final") == directory  # a rerun replaces it
    assert sorted(p.name for p in directory.iterdir()) == ["dev.spacy", "train.spacy"]


@needs_shared
def test_the_training_command_runs_the_final_recipe_end_to_end(tmp_path):
    """`qualkit nlp train` in miniature (2 steps, ≈ 90 s): convert, train on train + dev, evaluate, save."""
    from typer.testing import CliRunner

    from qualkit.cli import app

    out, work = tmp_path / "pipeline", tmp_path / "work"
    result = CliRunner().invoke(app, ["nlp", "train", "--data", str(NORNE), "--out", str(out), "--work-dir", str(work),
                                      "--max-steps", "2", "--eval-frequency", "1"])
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    training = meta["qualkit_benchmark"]["training"]
    assert training["data"] == "NDT train + dev files" and training["stage1"]["training.max_steps"] == 2
    assert sorted(p.name for p in Path(training["stage1"]["paths.train"]).iterdir()) == ["dev.spacy", "train.spacy"]
    assert set(meta["qualkit_benchmark"]["scores"]["test"]) == {"nob", "nno"}
    nlp = spacy.load(out)
    assert nlp.pipe_names == ["tok2vec", "morphologizer", "trainable_lemmatizer", "senter", "ner"]
    assert [t.text for t in nlp("Vi bor i Bergen.")] == ["Vi", "bor", "i", "Bergen", "."]
