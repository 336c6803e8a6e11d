"""The corpora shipped with qualkit: their gold coding must match the units qualkit cuts them into."""

import json
from pathlib import Path

from qualkit.classify import demo_gold_paths, read_gold_jsonl
from qualkit.codebook import load_codebook
from qualkit.ingest import read_corpus
from qualkit.segment import segment_documents

REPORTS = Path(__file__).resolve().parents[1] / "corpora" / "rapporter"


def test_the_report_excerpts_gold_is_one_line_per_paragraph_unit_in_order():
    corpus = read_corpus(REPORTS)
    assert not corpus.skipped and len(corpus.documents) == 14
    segments = segment_documents(corpus.documents, unit="paragraph")
    gold = [json.loads(line) for line in (REPORTS / "gold.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(g["document"], g["text"]) for g in gold] == list(zip(segments["document"], segments["text"],
                                                                  strict=True))
    assert [g["index"] for g in gold] == segments.groupby("document").cumcount().tolist()
    assert set(segments["kommune"]) >= {"Bodø", "Sunnfjord", "Ørsta"}
    coded = read_gold_jsonl([REPORTS / "gold.jsonl"], load_codebook())  # every code name is the codebook's
    assert coded.iloc[:, 2:].sum().min() > 20


def test_the_report_excerpts_are_not_training_material():
    """corpora/rapporter tests the coding model on report text it has never seen; it must stay out of training."""
    assert demo_gold_paths() and all(path.parent.name == "demo" for path in demo_gold_paths())
