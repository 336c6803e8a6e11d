"""Top-level ``qualkit`` commands. Thin: parse arguments, call the library, show progress and a summary."""

from __future__ import annotations

import warnings
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from qualkit.cli import nlp_cmd, project_cmd, refi_cmd, report_cmd
from qualkit.errors import QualkitError

app = typer.Typer(
    help="qualkit: qualitative analysis of Norwegian focus groups, interviews and workshop notes.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(nlp_cmd.app, name="nlp")
app.add_typer(project_cmd.app, name="project")
app.command(name="report")(report_cmd.report)
app.add_typer(refi_cmd.app, name="refi", help="REFI-QDA exchange (also available as `qualkit export`/`import`).")
app.command(name="export", help="Export a project or corpus folder to REFI-QDA (.qdpx) and its codebook (.qdc).")(
    refi_cmd.export
)
app.command(name="import", help="Import a REFI-QDA .qdpx project or .qdc codebook into a qualkit project.")(
    refi_cmd.import_
)
console = Console(stderr=True, soft_wrap=True)

LIBRARY_WARNINGS = r".*(failed to converge|did not converge|Maximum number of iteration)"
"""scikit-learn's ConvergenceWarning messages: a solver stopped at its iteration limit while fitting the
classifier. The user cannot act on them (the model is usable and its evidence is reported), so the commands
do not print them."""


@app.callback()
def _main(ctx: typer.Context) -> None:
    """qualkit: qualitative analysis of Norwegian focus groups, interviews and workshop notes."""
    ctx.with_resource(warnings.catch_warnings())  # the filter below lasts as long as the command
    warnings.filterwarnings("ignore", message=LIBRARY_WARNINGS, category=UserWarning)  # ConvergenceWarning


class Unit(StrEnum):
    turn = "turn"
    paragraph = "paragraph"
    sentence = "sentence"


class CoderKind(StrEnum):
    model = "model"
    keywords = "keywords"


CODER_HELP = "model: the classifier (default model for the codebook, or --train/--model); keywords: keyword coder."
TRAIN_HELP = "Labels CSV (columns text or segment_id, and codes separated by ';') to train the classifier on."
MODEL_HELP = "A model saved with `qualkit train`."


def _choice(coder: CoderKind, train: Path | None, model: Path | None):
    """The coder the options ask for; contradictory options are an error rather than silently ignored."""
    from qualkit.pipeline import CoderChoice

    if train is not None and model is not None:
        _fail("give either --train (train a model on labels) or --model (use a saved model), not both")
    if coder is CoderKind.keywords and (train is not None or model is not None):
        _fail("--train and --model are for the classifier; leave out --coder keywords")
    return CoderChoice(coder.value, train, model)


def _check_output_file(out: Path) -> None:
    if out.is_dir():
        _fail(f"--out {out} is a folder; give a file name, e.g. {out / 'segments.csv'}")


def _report_messages(messages) -> None:
    for message in messages:
        console.print(f"[cyan]note:[/cyan] {message}")


def _fail(error: Exception | str) -> None:
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
    coder: CoderKind = typer.Option(CoderKind.model, "--coder", help=CODER_HELP),
    train: Path = typer.Option(None, "--train", help=TRAIN_HELP),
    model: Path = typer.Option(None, "--model", help=MODEL_HELP),
) -> None:
    """Run the main job: ingest, segment, code and write theme tables per kommune."""
    from qualkit.pipeline import run as run_job

    choice = _choice(coder, train, model)
    try:
        with _Bar() as bar:
            result = run_job(folder, codebook, out=out, unit=unit.value, progress=bar, coder=choice)
    except (QualkitError, OSError) as error:
        _fail(error)
    _report_skipped(result.skipped)
    _report_messages(result.messages)
    if result.segments.empty:
        console.print("[red]error:[/red] no document could be processed")
        raise typer.Exit(code=1)
    _print_theme_table(result)
    for name, path in result.outputs.items():
        console.print(f"  wrote {name:12} {path}")


MAX_THEME_ROWS = 25
"""At most this many themes are listed in the terminal when themes are rows; the files hold them all."""
TOP_THEMES = 5
"""Themes listed per kommune when neither themes nor kommuner fit across the terminal."""


def _print_theme_table(result) -> None:
    """Segments per theme and kommune, in the form that fits the terminal: themes across (few themes), themes
    down with kommuner across (many themes, the most frequent first), or each kommune's top themes."""
    from qualkit.aggregate import pivot_themes

    wide = pivot_themes(result.table, "segments", use_labels=False).fillna(0).astype(int)
    totals = result.table.drop_duplicates("kommune").set_index("kommune")["kommune_segments"]
    title = f"Segments per theme and kommune ({result.coder_name})"
    where = result.outputs.get("themes_csv")
    every = f"every theme is in {where}" if where else "every theme is in the tables of qualkit.aggregate"
    if _fits([len("kommune"), len("segments"), *map(len, wide.columns)], wide.index, console.width):
        table = Table(title=title)
        table.add_column("kommune")
        table.add_column("segments", justify="right")
        for code in wide.columns:
            table.add_column(code, justify="right")
        for kommune in wide.index:
            table.add_row(kommune, str(totals[kommune]), *[str(v) for v in wide.loc[kommune]])
        console.print(table)
    elif _fits([len("theme"), *map(len, wide.index)], [*wide.columns, "segments"], console.width):
        order = wide.sum().sort_values(ascending=False, kind="stable").index
        shown = list(order[:MAX_THEME_ROWS])
        table = Table(title=title)
        table.add_column("theme")
        for kommune in wide.index:
            table.add_column(kommune, justify="right")
        table.add_row("(segments)", *[str(totals[kommune]) for kommune in wide.index], end_section=True)
        for code in shown:
            table.add_row(code, *[str(wide.at[kommune, code]) for kommune in wide.index])
        console.print(table)
        if len(order) > len(shown):
            console.print(f"the {len(shown)} most frequent of {len(order)} themes; {every}")
    else:
        console.print(f"[bold]{title}[/bold]: the {TOP_THEMES} most frequent themes per kommune; {every}")
        for kommune in wide.index:
            top = wide.loc[kommune].sort_values(ascending=False, kind="stable").head(TOP_THEMES)
            listed = ", ".join(f"{code} {n}" for code, n in top.items() if n) or "no theme coded"
            console.print(f"  {kommune} ({totals[kommune]} segments): {listed}")
    docs = result.segments["document"].nunique()
    console.print(f"{docs} documents, {len(result.segments)} segments, {len(result.skipped)} skipped.")


def _fits(headers: list[int], rows, width: int) -> bool:
    """Whether a table with columns of these header widths (and a first column of the ``rows`` labels, numbers
    in the others) fits ``width`` characters without squeezing a column."""
    first = max([headers[0], *(len(str(row)) for row in rows)])
    return first + sum(max(h, 5) for h in headers[1:]) + 3 * len(headers) + 1 <= width


@app.command()
def code(
    folder: Path = typer.Argument(..., help="Folder of documents."),
    codebook: Path = typer.Option(None, "--codebook", "-c", help="Codebook YAML (default: boligsosialt)."),
    out: Path = typer.Option(..., "--out", "-o", help="Where to write the segment table (CSV)."),
    unit: Unit = typer.Option(Unit.turn, "--unit", "-u", help="Coding unit."),
    coder: CoderKind = typer.Option(CoderKind.model, "--coder", help=CODER_HELP),
    train: Path = typer.Option(None, "--train", help=TRAIN_HELP),
    model: Path = typer.Option(None, "--model", help=MODEL_HELP),
) -> None:
    """Segment and code a folder (or project) and write just the segment table."""
    from qualkit.export import write_csv
    from qualkit.pipeline import code_corpus

    _check_output_file(out)
    choice = _choice(coder, train, model)
    messages: list[str] = []
    try:
        with _Bar() as bar:
            coded, corpus, used = code_corpus(folder, codebook, unit=unit.value, progress=bar,
                                              coder=choice, messages=messages)
    except (QualkitError, OSError) as error:
        _fail(error)
    _report_skipped([(s.path, s.reason) for s in corpus.skipped])
    _report_messages(messages)
    if coded.empty:
        console.print("[red]error:[/red] no document could be processed")
        raise typer.Exit(code=1)
    try:
        write_csv(coded, out)
    except OSError as error:
        _fail(error)
    console.print(f"wrote {len(coded)} segments from {coded['document'].nunique()} documents to {out} ({used.name})")


@app.command()
def train(
    labels: Path = typer.Argument(..., help=TRAIN_HELP),
    out: Path = typer.Option(..., "--out", "-o", help="Where to save the model (.joblib)."),
    folder: Path = typer.Option(None, "--corpus", help="Folder or project whose segments labels refer to by id."),
    codebook: Path = typer.Option(None, "--codebook", "-c", help="Codebook YAML (default: boligsosialt)."),
    unit: Unit = typer.Option(Unit.turn, "--unit", "-u", help="Coding unit of --corpus."),
) -> None:
    """Train the classifier on coded segments (plus the codebook) and save it."""
    import pandas as pd

    from qualkit.classify import save_model, weak_evidence_message
    from qualkit.codebook import load_codebook
    from qualkit.coders import train_from_labels

    try:
        book = load_codebook(codebook)
        segments = _segments(folder, book, unit) if folder else pd.DataFrame(columns=["segment_id", "document", "text"])
        model, messages = train_from_labels(book, segments, labels)
        save_model(model, out)
    except (QualkitError, OSError) as error:
        _fail(error)
    weak = weak_evidence_message(model)
    _report_messages(messages + ([weak] if weak else []))
    console.print(f"saved model to {out}")


@app.command(name="build-default-model")
def build_default_model(
    gold: list[Path] = typer.Option(..., "--gold", help="Reference gold JSON lines (text, codes, report/document); "
                                    "for qualkit's own model ../shared/data/gold/dev.jsonl."),
    out: Path = typer.Option(None, "--out", "-o", help="Where to write it (default: the file qualkit ships)."),
) -> None:
    """Rebuild the default codebook's shipped model (for maintainers: after changing the classifier or codebook)."""
    from qualkit.classify import SHIPPED_MODEL, build_shipped_model

    target = out or SHIPPED_MODEL
    try:
        model = build_shipped_model(gold, target)
    except (QualkitError, OSError, KeyError, ValueError) as error:
        _fail(error)
    sources = model.training_sources_
    console.print(f"trained on the codebook, {sources['demo_segments']} demo segments and "
                  f"{sources['reference_segments']} reference segments; saved to {target} "
                  f"({target.stat().st_size / 1e6:.1f} MB)")


@app.command()
def suggest(
    folder: Path = typer.Argument(..., help="Folder (or project) whose segments to choose from."),
    out: Path = typer.Option(..., "--out", "-o", help="CSV of the segments to code next (fill its 'codes')."),
    n: int = typer.Option(20, "--n", "-n", min=1, help="How many segments to suggest."),
    labels: Path = typer.Option(None, "--labels", help="Labels coded so far (trains the model, excluded)."),
    model: Path = typer.Option(None, "--model", help=MODEL_HELP),
    codebook: Path = typer.Option(None, "--codebook", "-c", help="Codebook YAML (default: boligsosialt)."),
    unit: Unit = typer.Option(Unit.turn, "--unit", "-u", help="Coding unit."),
) -> None:
    """Write the segments whose coding would teach the model most (uncertain, spread over documents/kommuner).

    The loop: code the suggested rows (column `codes`), append them to your labels file, run `suggest` again.
    """
    from qualkit.active import suggest as choose
    from qualkit.classify import default_classifier, load_model, read_labels
    from qualkit.codebook import load_codebook
    from qualkit.coders import train_from_labels
    from qualkit.export import write_csv

    _check_output_file(out)
    if labels is not None and model is not None:
        _fail("give either --labels (train on your codings) or --model (a saved model), not both")
    messages: list[str] = []
    try:
        book = load_codebook(codebook)
        segments = _segments(folder, book, unit)
        coded_ids: list[str] = []
        if labels is not None:
            estimator, messages = train_from_labels(book, segments, labels)
            with warnings.catch_warnings():  # train_from_labels has reported unmatched rows already
                warnings.simplefilter("ignore")
                coded_ids = [i for i in read_labels(labels, segments, book)["segment_id"] if i]
        else:
            estimator = load_model(model, book) if model else default_classifier(book)
        chosen = choose(estimator, segments, n=n, coded=coded_ids, random_state=0)
    except (QualkitError, OSError) as error:
        _fail(error)
    columns = ["segment_id", "document", "kommune", "speaker", "text", "uncertainty"]
    table = chosen[[c for c in columns if c in chosen.columns]].assign(codes="")
    try:
        write_csv(table, out)
    except OSError as error:
        _fail(error)
    _report_messages(messages)
    console.print(f"wrote {len(table)} segments to code next to {out}")


def _segments(folder: Path, codebook, unit: Unit):
    from qualkit.project.source import load_segments

    loaded = load_segments(folder, unit=unit.value, codebook=codebook)
    _report_skipped(loaded.skipped)
    return loaded.segments


@app.command()
def info() -> None:
    """Show the Norwegian pipeline in use (components, accuracy) and the default codebook's coding model."""
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
    _coding_model_info()


def _coding_model_info() -> None:
    """What the default codebook's classifier is trained on (the shipped model, or the fallback)."""
    from qualkit.classify import SHIPPED_MODEL, model_version, shipped_model

    model = shipped_model()
    if model is None:
        typer.echo("coding model (default codebook): built on first use from the codebook and the demo corpus")
        return
    sources = model.training_sources_
    typer.echo(f"coding model (default codebook): {SHIPPED_MODEL.name}, version {model_version(model)}")
    typer.echo(f"  trained on: codebook {sources['codebook']}, {sources['demo_segments']} coded demo segments, "
               f"{sources['reference_segments']} report paragraphs coded by reference coders")
    typer.echo(f"  weak evidence: {', '.join(model.weak_codes_) or 'none'}")
