"""``qualkit project ...``: create a project file and measure agreement between its coders."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from qualkit.errors import QualkitError

app = typer.Typer(help="Project files (SQLite): create one from documents; agreement between coders.",
                  no_args_is_help=True)
console = Console(stderr=True, soft_wrap=True)


@app.command()
def create(
    path: Path = typer.Argument(..., help="The project file to create (e.g. studie.qualkit)."),
    documents: Path = typer.Option(..., "--from", help="Folder of documents to add."),
    codebook: Path = typer.Option(None, "--codebook", "-c", help="Codebook YAML (default: boligsosialt)."),
    unit: list[str] = typer.Option(["turn"], "--unit", "-u", help="Units to segment into (repeatable)."),
) -> None:
    """Create a project, add the documents of a folder and segment them."""
    from qualkit.project import Project

    try:
        with Project.build(path, codebook=codebook) as project:  # all or nothing: no half-made file is left
            report = project.add_documents(documents)
            counts = {name: len(project.segment(name)) for name in unit}
    except (QualkitError, OSError) as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(code=2) from None
    for row in report[report["status"] != "added"].itertuples():
        console.print(f"[yellow]{row.status}[/yellow] {row.document}: {row.reason}")
    noted = report[(report["status"] == "added") & (report["reason"] != "")]
    for reason, n in noted["reason"].value_counts().sort_index().items():
        console.print(f"[cyan]note:[/cyan] {reason} ({n} document{'s' if n > 1 else ''})")
    added = int((report["status"] == "added").sum())
    segments = ", ".join(f"{n} {name} segments" for name, n in counts.items())
    console.print(f"created {path}: {added} documents, {segments}")


@app.command()
def agreement(
    path: Path = typer.Argument(..., help="The project file."),
    coders: list[str] = typer.Option(..., "--coder", help="A coder to compare (repeat: at least two)."),
    unit: str = typer.Option(None, "--unit", "-u", help="Unit (default: the project's first)."),
    out: Path = typer.Option(None, "--disagreements", help="Write the disagreements to this CSV."),
) -> None:
    """Percent agreement, Cohen's κ (two coders) and Krippendorff's α per code, and the disagreements."""
    from qualkit.export import write_csv
    from qualkit.project import Project

    try:
        with Project.open(path, readonly=True) as project:
            result = project.agreement(coders, unit=unit)
    except (QualkitError, OSError, ValueError) as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(code=2) from None
    table = Table(title=f"Agreement between {', '.join(coders)} ({result.units} {result.unit} segments)")
    columns = [c for c in ["units", "percent_agreement", "kappa", "alpha"] if c in result.table.columns]
    table.add_column("code")
    for column in columns:
        table.add_column(column, justify="right")
    for code, row in result.table.iterrows():
        table.add_row(str(code), *[_figure(row[c], c) for c in columns])
    Console().print(table)
    if "note" in result.table.columns:
        for code, note in result.table["note"].items():
            if isinstance(note, str) and note:
                console.print(f"[cyan]note:[/cyan] {code}: {note}")
    console.print(f"{len(result.disagreements)} disagreements")
    if out is not None:
        write_csv(result.disagreements, out)
        console.print(f"wrote them to {out}")


def _figure(value, column: str) -> str:
    """A table cell: units as a whole number; κ, α and agreement with three decimals, or «–» when undefined
    (no variation in a code's codings: every coder coded every segment the same way)."""
    if pd.isna(value):
        return "–"
    return str(int(value)) if column == "units" else f"{value:.3f}"
