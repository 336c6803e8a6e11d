"""``qualkit report``: theme tables, uncertainty, co-occurrence, profiles and quotes written for report writers.

The lead registers it on the main app::

    from qualkit.cli import report_cmd
    app.command(name="report")(report_cmd.report)     # or app.add_typer(report_cmd.app, name="report")

Input: a coded segment table (CSV, as written by ``qualkit code`` / ``qualkit run``), a corpus folder (coded now with
the default coder, the classifier) or a project file (``.qualkit``, read with
``Project.open(path).coded_table(coder)``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qualkit.errors import QualkitError

app = typer.Typer(help="Write theme tables and reports per kommune.", pretty_exceptions_enable=False)


def load_coded(source: Path, coder: str | None = None, codebook: Path | None = None):
    """(coded segment table, codebook, document texts or None, coder name) from a CSV, a folder or a project."""
    import pandas as pd

    from qualkit.codebook import load_codebook

    if source.suffix == ".qualkit":
        from qualkit.project.store import Project

        with Project.open(source) as project:
            coders = list(project.coders()["coder"])
            name = coder or (coders[0] if coders else None)
            if name is None:
                raise typer.BadParameter(f"{source}: the project has no coder; pass --coder")
            table = project.coded_table(name)
            book = load_codebook(codebook) if codebook else project.codebook
            texts = {doc: project.document(doc).text for doc in project.documents()["document"]}
        return table, book, texts, name
    book = load_codebook(codebook)
    if source.is_dir():
        from qualkit.pipeline import code_corpus
        from qualkit.report import document_texts

        table, corpus, used = code_corpus(source, book)
        return table, book, document_texts(corpus.documents), used.name
    if not source.is_file():
        raise QualkitError(f"{source}: no such segment table, corpus folder or project file")
    table = pd.read_csv(source, keep_default_na=False, na_values=[""], dtype={"speaker": str, "role": str})
    required = ("document", "kommune", "text", "start", "end", "speaker", *book.code_names)
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise QualkitError(f"{source}: not a coded segment table (as written by `qualkit run` or `qualkit code`): "
                           f"missing column(s) {', '.join(missing)}")
    for column in ("speaker", "role", "kilde", "heading", "attributed_kommune"):
        if column in table:
            table[column] = table[column].fillna("")
    return table, book, None, coder or ""


@app.command()
def report(
    segments_csv: Annotated[Path, typer.Argument(help="Coded segment table (CSV), corpus folder or .qualkit project.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out/rapport"),
    codebook: Annotated[Path | None, typer.Option("--codebook", "-c", help="Codebook YAML.")] = None,
    by: Annotated[str, typer.Option("--by", help="kommune (said in), attributed_kommune/about (said about) or fylke.")]
    = "kommune",
    texts: Annotated[Path | None, typer.Option("--texts", help="Corpus folder, for line numbers in quotes.")] = None,
    coder: Annotated[str | None, typer.Option("--coder", help="Coder whose codes to use (project files).")] = None,
    kilde: Annotated[list[str] | None, typer.Option("--kilde", help="Only these sources (repeatable).")] = None,
    role: Annotated[list[str] | None, typer.Option("--role", help="Only these speaker roles (repeatable).")] = None,
    exclude_role: Annotated[list[str] | None, typer.Option("--exclude-role", help="Leave out these roles.")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="First date (YYYY-MM-DD).")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last date (YYYY-MM-DD).")] = None,
    min_segments: Annotated[int, typer.Option("--min-segments", min=0, help="Flag cells with fewer segments.")] = 5,
    min_documents: Annotated[int, typer.Option(
        "--min-documents", min=2, help="Groups with fewer documents get a Wilson interval over segments.")] = 3,
    level: Annotated[float, typer.Option("--level", min=0.5, max=0.999, help="Interval level, e.g. 0.9.")] = 0.95,
    agreement: Annotated[float | None, typer.Option(
        "--agreement", min=-1.0, max=1.0, help="Model–human agreement (e.g. α).")] = None,
    formats: Annotated[str, typer.Option("--formats", help="Comma-separated: xlsx,csv,md,html,docx.")]
    = "xlsx,csv,md,html,docx",
    title: Annotated[str, typer.Option("--title", help="Report title.")] = "Tema per kommune",
    quotes: Annotated[int, typer.Option("--quotes", min=0, help="Quotes per theme and kommune.")] = 2,
) -> None:
    """Write theme × kommune tables (with intervals), co-occurrence, profiles and quotes as xlsx, csv, Markdown,
    HTML and docx."""
    from qualkit.report import document_texts
    from qualkit.report_build import build_report, write_report

    try:
        table, book, found_texts, coder_name = load_coded(segments_csv, coder, codebook)
        if texts is not None:
            found_texts = document_texts(texts)
        if table.empty:
            typer.echo("error: the segment table is empty", err=True)
            raise typer.Exit(code=1)
        filters = {"kilde": kilde or None, "role": role or None, "exclude_roles": exclude_role or (),
                   "date_from": date_from, "date_to": date_to}
        built = build_report(
            table, book.code_names, book.labels, by=by, texts=found_texts, min_segments=min_segments,
            min_documents=min_documents, level=level,
            agreement={"measure": "alpha", "overall": agreement} if agreement is not None else None,
            quotes_per_cell=quotes, title=title, coder_name=coder_name,
            **{k: v for k, v in filters.items() if v not in (None, ())},
        )
        paths = write_report(built, out, [f.strip() for f in formats.split(",") if f.strip()])
    except (QualkitError, OSError, KeyError, ValueError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from error
    meta = built.meta
    typer.echo(f"{meta['documents']} documents, {meta['segments']} segments, {meta['groups']} groups ({built.by}).")
    if meta["unassigned"]:
        typer.echo(f"  left out {meta['unassigned']} segments without a value in {built.by}", err=True)
    for name, path in paths.items():
        typer.echo(f"  wrote {name:24} {path}")
