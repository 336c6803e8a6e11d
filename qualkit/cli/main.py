"""Top-level ``qualkit`` commands. Thin: parse arguments, call the library, show progress and a summary."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from qualkit.cli import nlp_cmd, refi_cmd, report_cmd
from qualkit.errors import QualkitError

app = typer.Typer(
    help="qualkit: qualitative analysis of Norwegian focus groups, interviews and workshop notes.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(nlp_cmd.app, name="nlp")
app.command(name="report")(report_cmd.report)
app.add_typer(refi_cmd.app, name="refi", help="REFI-QDA exchange (also available as `qualkit export`/`import`).")
app.command(name="export", help="Export a project or corpus folder to REFI-QDA (.qdpx) and its codebook (.qdc).")(
    refi_cmd.export
)
app.command(name="import", help="Import a REFI-QDA .qdpx project or .qdc codebook into a qualkit project.")(
    refi_cmd.import_
)
console = Console(stderr=True, soft_wrap=True)


class Unit(StrEnum):
    turn = "turn"
    paragraph = "paragraph"
    sentence = "sentence"


def _fail(error: Exception) -> None:
    console.print(f"[red]error:[/red] {error}")
    raise typer.Exit(code=2)


class _Bar:
    """A rich progress bar usable as qualkit's ``progress(message, done, total)`` callback."""

    def __enter__(self):
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=console, transient=False,
        )
        self.progress.__enter__()
        self.task = self.progress.add_task("starting", total=None)
        return self

    def __call__(self, message: str, done: int, total: int) -> None:
        self.progress.update(self.task, description=message[:60], completed=done, total=total)

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)


def _report_skipped(skipped) -> None:
    for path, reason in skipped:
        console.print(f"[yellow]skipped[/yellow] {path}: {reason}")


@app.command()
def run(
    folder: Path = typer.Argument(..., help="Folder of documents (txt, md, docx, odt, vtt, srt)."),
    codebook: Path = typer.Option(None, "--codebook", "-c", help="Codebook YAML (default: boligsosialt)."),
    out: Path = typer.Option(Path("out"), "--out", "-o", help="Output folder."),
    unit: Unit = typer.Option(Unit.turn, "--unit", "-u", help="Coding unit."),
) -> None:
    """Run the main job: ingest, segment, code and write theme tables per kommune."""
    from qualkit.pipeline import run as run_job

    try:
        with _Bar() as bar:
            result = run_job(folder, codebook, out=out, unit=unit.value, progress=bar)
    except (QualkitError, OSError) as error:
        _fail(error)
    _report_skipped(result.skipped)
    if result.segments.empty:
        console.print("[red]error:[/red] no document could be processed")
        raise typer.Exit(code=1)
    _print_theme_table(result)
    for name, path in result.outputs.items():
        console.print(f"  wrote {name:12} {path}")


def _print_theme_table(result) -> None:
    from qualkit.aggregate import pivot_themes

    wide = pivot_themes(result.table, "segments", use_labels=False)
    totals = result.table.drop_duplicates("kommune").set_index("kommune")["kommune_segments"]
    table = Table(title=f"Segments per theme and kommune ({result.coder_name})")
    table.add_column("kommune")
    table.add_column("segments", justify="right")
    for code in wide.columns:
        table.add_column(code, justify="right")
    for kommune in wide.index:
        table.add_row(kommune, str(totals[kommune]), *[str(int(v)) for v in wide.loc[kommune]])
    console.print(table)
    docs = result.segments["document"].nunique()
    console.print(f"{docs} documents, {len(result.segments)} segments, {len(result.skipped)} skipped.")


@app.command()
def code(
    folder: Path = typer.Argument(..., help="Folder of documents."),
    codebook: Path = typer.Option(None, "--codebook", "-c", help="Codebook YAML (default: boligsosialt)."),
    out: Path = typer.Option(..., "--out", "-o", help="Where to write the segment table (CSV)."),
    unit: Unit = typer.Option(Unit.turn, "--unit", "-u", help="Coding unit."),
) -> None:
    """Segment and code a folder and write just the segment table."""
    from qualkit.export import write_csv
    from qualkit.pipeline import code_corpus

    try:
        with _Bar() as bar:
            coded, corpus, coder = code_corpus(folder, codebook, unit=unit.value, progress=bar)
    except (QualkitError, OSError) as error:
        _fail(error)
    _report_skipped([(s.path, s.reason) for s in corpus.skipped])
    if coded.empty:
        console.print("[red]error:[/red] no document could be processed")
        raise typer.Exit(code=1)
    write_csv(coded, out)
    console.print(f"wrote {len(coded)} segments from {coded['document'].nunique()} documents to {out} ({coder.name})")


@app.command()
def info() -> None:
    """Show the Norwegian pipeline in use, its components and accuracy."""
    import qualkit
    from qualkit import nlp as nlp_module

    nlp = nlp_module.load()
    details = nlp_module.pipeline_info(nlp) if hasattr(nlp_module, "pipeline_info") else {
        "name": nlp.meta.get("name"), "version": nlp.meta.get("version"), "components": nlp.pipe_names}
    typer.echo(f"qualkit {qualkit.__version__}")
    for key, value in details.items():
        if isinstance(value, dict):
            typer.echo(f"{key}:")
            for k, v in value.items():
                typer.echo(f"  {k}: {v}")
        else:
            typer.echo(f"{key}: {value}")
