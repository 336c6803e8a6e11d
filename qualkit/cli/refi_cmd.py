"""``qualkit refi ...``: export to and import from REFI-QDA (NVivo, ATLAS.ti, MAXQDA, QualCoder).

The lead registers it on the main app with ``app.add_typer(refi_cmd.app, name="refi")``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qualkit.errors import QualkitError

app = typer.Typer(help="Exchange projects with NVivo, ATLAS.ti, MAXQDA and QualCoder (REFI-QDA .qdpx/.qdc).",
                  no_args_is_help=True)

ProjectArg = Annotated[Path | None, typer.Argument(help="qualkit project file (omit with --from-folder).")]
QdpxOpt = Annotated[Path | None, typer.Option("--qdpx", help="Write the project as a REFI-QDA project (.qdpx).")]
QdcOpt = Annotated[Path | None, typer.Option("--qdc", help="Write the codebook as a REFI-QDA codebook (.qdc).")]
FolderOpt = Annotated[Path | None, typer.Option(
    "--from-folder", help="Export a corpus folder coded with the codebook's keywords, without a project.")]
CodebookOpt = Annotated[Path | None, typer.Option("--codebook", help="Codebook YAML (default: boligsosialt).")]
CoderOpt = Annotated[list[str] | None, typer.Option("--coder", help="Export only these coders (repeatable).")]
FileArg = Annotated[Path, typer.Argument(help="A .qdpx project or a .qdc codebook.")]
IntoOpt = Annotated[Path | None, typer.Option(
    "--project", help="qualkit project to import into (created when missing).")]
LabelsOpt = Annotated[Path | None, typer.Option(
    "--labels", help="Also write training labels (text, codes) for 'qualkit code --train'.")]
ReportOpt = Annotated[Path | None, typer.Option("--report", help="Write the import report as CSV.")]
ExternalOpt = Annotated[bool, typer.Option(
    "--allow-external", help="Read sources outside the archive's folder (file:// and absolute paths).")]


def _fail(error: Exception) -> None:
    typer.echo(f"error: {error}", err=True)
    raise typer.Exit(code=2)


@app.command("export")
def export(project: ProjectArg = None, qdpx: QdpxOpt = None, qdc: QdcOpt = None, from_folder: FolderOpt = None,
           codebook: CodebookOpt = None, coder: CoderOpt = None) -> None:
    """Export a qualkit project (or a keyword-coded corpus folder) to .qdpx and/or its codebook to .qdc."""
    from qualkit.codebook import load_codebook
    from qualkit.refi import from_folder as refi_from_folder
    from qualkit.refi import from_project, write_qdc, write_qdpx

    if qdpx is None and qdc is None:
        _fail(ValueError("give --qdpx FILE and/or --qdc FILE"))
    if (project is None) == (from_folder is None):
        _fail(ValueError("give either a project file or --from-folder FOLDER"))
    try:
        if from_folder is not None:
            refi = refi_from_folder(from_folder, load_codebook(codebook))
        else:
            from qualkit.project import Project

            with Project.open(project, readonly=True) as opened:
                refi = from_project(opened, coders=coder)
        if qdpx is not None:
            write_qdpx(refi, qdpx)
            n = sum(len(s.codings) for source in refi.sources for s in source.selections)
            typer.echo(f"wrote {qdpx}: {len(refi.sources)} sources, {len(refi.all_codes())} codes, {n} codings")
        if qdc is not None:
            write_qdc(refi, qdc)
            typer.echo(f"wrote {qdc}: {len(refi.all_codes())} codes")
        for issue in refi.issues:
            typer.echo(f"  note: {issue.element} {issue.name}: {issue.reason}")
    except QualkitError as error:
        _fail(error)


@app.command("import")
def import_(file: FileArg, project: IntoOpt = None, labels: LabelsOpt = None, report: ReportOpt = None,
            allow_external: ExternalOpt = False) -> None:
    """Import a .qdpx project (sources, codes, codings, cases, variables, notes) or a .qdc codebook."""
    from qualkit.export import write_csv
    from qualkit.refi import (
        codebook_from_refi,
        codings_to_labels,
        load_qdc,
        load_qdpx,
        merge_codebook,
        report_table,
        to_project,
    )

    try:
        if file.suffix.lower() == ".qdc":
            refi = load_qdc(file)
            if project is not None:
                from qualkit.project import Project

                book = codebook_from_refi(refi, file.stem)
                notes = [f"codebook {book.name} with {len(book.all_codes())} codes set"]
                if project.exists():
                    with Project.open(project) as opened:
                        book, notes = merge_codebook(opened.codebook, book)
                        opened.set_codebook(book)
                else:
                    Project.create(project, book).close()
                for note in notes:
                    typer.echo(f"{project}: {note}")
        else:
            refi = load_qdpx(file, allow_external=allow_external)
            if project is not None:
                to_project(refi, project)
        n = sum(len(s.codings) for source in refi.sources for s in source.selections)
        typer.echo(f"read {file}: {len(refi.sources)} sources, {len(refi.all_codes())} codes, {n} codings, "
                   f"{len(refi.users)} users, {len(refi.cases)} cases")
        if labels is not None:
            write_csv(codings_to_labels(refi), labels)
            typer.echo(f"wrote {labels}")
        table = report_table(refi)
        if report is not None:
            write_csv(table, report)
        left_out = int((~table["imported"].astype(bool)).sum()) if len(table) else 0
        if len(table):
            typer.echo(f"import report: {left_out} item(s) left out, {len(table) - left_out} imported with changes"
                       + (f" (see {report})" if report else ""))
            for row in table.head(20).to_dict("records"):
                typer.echo(f"  {'changed' if row['imported'] else 'left out'}: {row['element']} {row['name']}: "
                           f"{row['reason']}")
    except QualkitError as error:
        _fail(error)
