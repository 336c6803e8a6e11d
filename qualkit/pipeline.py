"""The main job, end to end: ingest → segment → code → aggregate → write tables, heatmap and summary.

>>> from qualkit.pipeline import run
>>> result = run("corpora/demo", out="out/demo")      # doctest: +SKIP
>>> result.table.head()                               # doctest: +SKIP
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from qualkit.aggregate import theme_table_for_people, themes_by_kommune
from qualkit.code import Coder, apply_coder
from qualkit.codebook import Codebook, load_codebook
from qualkit.export import staged_folder, write_atomic, write_csv, write_xlsx
from qualkit.ingest import CorpusResult, has_kommune_from_folder, read_corpus
from qualkit.report import heatmap, summary_markdown
from qualkit.segment import segment_documents

Progress = Callable[[str, int, int], None]


@dataclass
class RunResult:
    """What :func:`run` produced: the coded segment table, the tidy theme table, what was skipped and written."""

    segments: pd.DataFrame
    table: pd.DataFrame
    codebook: Codebook
    coder_name: str
    skipped: list[tuple[str, str]] = field(default_factory=list)
    outputs: dict[str, Path] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)


def code_corpus(
    folder: str | Path,
    codebook: Codebook | str | Path | None = None,
    unit: str = "turn",
    coder: Coder | CoderChoice | None = None,
    nlp=None,
    progress: Progress | None = None,
    attribute: bool = True,
    messages: list[str] | None = None,
) -> tuple[pd.DataFrame, CorpusResult, Coder]:
    """Ingest, segment and code a folder (or a project file); returns the coded segment table, the ingestion
    result and the coder.

    With ``attribute`` (default) every segment of a folder also gets ``attributed_kommune`` and ``attribution``
    (metadata, heading or mention), so that tables can count "said about" beside "said in". A project file
    (``.qualkit``) gives its stored segments and codebook, and the coder's codings are stored in it as codings
    by that coder, like a human coder's.

    ``coder`` is a coder object, or a :class:`CoderChoice` (default model, keywords, a saved model or a labels
    file to train on) resolved once the segments exist (``None``: the classifier, as on the command line);
    what the user should know about the choice (weak evidence, unmatched label rows) is appended to
    ``messages``.
    """
    from qualkit.project import is_project_file

    if is_project_file(folder):
        return _code_project(Path(folder), codebook, unit, coder, nlp, progress, messages)
    codebook = codebook if isinstance(codebook, Codebook) else load_codebook(codebook)
    corpus = read_corpus(folder)
    if messages is not None:
        messages.extend(_kommuner_from_folders(corpus.documents))
    total = len(corpus.documents)
    done = 0

    def tick(document) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(f"segmenting {document.name}", done, total)

    segments = segment_documents(corpus.documents, unit=unit, nlp=nlp, progress=tick, attribute=attribute)
    coder = _resolve_coder(coder, codebook, segments, nlp, messages)
    if segments.empty:  # nothing could be read: nothing to code
        return segments, corpus, coder
    if progress:
        progress(f"coding {len(segments)} segments with {coder.name}", total, total)
    coded = apply_coder(segments, coder)
    return coded, corpus, coder


def _kommuner_from_folders(documents) -> list[str]:
    """Say which kommuner were taken from folder names, so that a wrong guess is seen."""
    counts = Counter(d.kommune for d in documents if has_kommune_from_folder(d))
    if not counts:
        return []
    listed = ", ".join(f"{name} ({n})" for name, n in sorted(counts.items()))
    return [f"kommune taken from the folder name (no front matter or metadata.csv entry): {listed}"]


@dataclass
class CoderChoice:
    """Which coder the main job uses: ``kind`` model (default) or keywords, or a saved ``model`` file, or a
    labels CSV to ``train`` a classifier on (see :func:`qualkit.coders.make_coder`)."""

    kind: str = "model"
    train: str | Path | None = None
    model: str | Path | None = None


def _resolve_coder(coder, codebook: Codebook, segments: pd.DataFrame, nlp, messages: list[str] | None) -> Coder:
    if coder is None:  # as the command line: the classifier (the default model for the codebook)
        coder = CoderChoice()
    if not isinstance(coder, CoderChoice):
        return coder
    from qualkit.coders import make_coder

    chosen, notes = make_coder(codebook, segments, coder.kind, coder.train, coder.model, nlp=nlp)
    if messages is not None:
        messages.extend(notes)
    return chosen


def _code_project(path: Path, codebook, unit: str, coder, nlp, progress: Progress | None, messages=None):
    from qualkit.project import Project
    from qualkit.project.source import load_segments

    loaded = load_segments(path, unit=unit, codebook=codebook, nlp=nlp)
    coder = _resolve_coder(coder, loaded.codebook, loaded.segments, nlp, messages)
    if progress:
        progress(f"coding {len(loaded.segments)} segments with {coder.name}", 1, 1)
    coded = apply_coder(loaded.segments, coder)
    with Project.open(path) as project:
        project.add_model_codings(coded, coder.name)
    return coded, CorpusResult(), coder


def run(
    folder: str | Path,
    codebook: Codebook | str | Path | None = None,
    out: str | Path | None = None,
    unit: str = "turn",
    coder: Coder | CoderChoice | None = None,
    nlp=None,
    progress: Progress | None = None,
) -> RunResult:
    """Run the main job on a folder of documents; write the outputs to ``out`` when given.

    Outputs: ``segments.csv`` (the segment table), ``themes_by_kommune.csv`` (tidy) and ``.xlsx`` (a sheet for
    people and the tidy sheet), ``themes_by_kommune.png`` (heatmap) and ``summary.md`` (table and quotes).
    """
    messages: list[str] = []
    coded, corpus, coder = code_corpus(folder, codebook, unit=unit, coder=coder, nlp=nlp, progress=progress,
                                       messages=messages)
    if not isinstance(codebook, Codebook):  # the coder knows the codebook it used (a project's own, say)
        codebook = getattr(coder, "codebook", None) or load_codebook(codebook)
    skipped = [(s.path, s.reason) for s in corpus.skipped]
    table = themes_by_kommune(coded, codebook.code_names, codebook.labels) if len(coded) else pd.DataFrame()
    result = RunResult(coded, table, codebook, coder.name, skipped, messages=messages)
    if out is not None and len(coded):
        result.outputs = write_outputs(result, Path(out))
    return result


def write_outputs(result: RunResult, out: Path) -> dict[str, Path]:
    """Write the main job's files to ``out`` as one set: all are written to a staging folder first and move
    into ``out`` only when every one has been written, so an error never leaves old and new files side by side."""
    codebook = result.codebook
    markdown = summary_markdown(
        result.segments, result.table, codebook.code_names, codebook.labels,
        title=f"Tema per kommune — {codebook.label}", coder_name=result.coder_name, skipped=result.skipped,
    )
    names = {"segments": "segments.csv", "themes_csv": "themes_by_kommune.csv",
             "themes_xlsx": "themes_by_kommune.xlsx", "heatmap": "themes_by_kommune.png", "summary": "summary.md"}
    with staged_folder(out) as stage:
        write_csv(result.segments, stage / names["segments"])
        write_csv(result.table, stage / names["themes_csv"])
        write_xlsx({"Tema per kommune": theme_table_for_people(result.table), "Tidy": result.table},
                   stage / names["themes_xlsx"])
        heatmap(result.table, stage / names["heatmap"])
        write_atomic(stage / names["summary"], lambda p: p.write_text(markdown, encoding="utf-8"))
    return {key: Path(out) / name for key, name in names.items()}
