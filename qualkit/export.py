"""Write tables to files safely: every file is written to a temporary name first and then renamed."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pandas as pd


def _default_mode() -> int:
    """The mode a newly created file gets under the current umask (``mkstemp`` always creates 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one rename.

    The file gets the permissions any new file would get (the umask's), not ``mkstemp``'s owner-only 0600, so
    that colleagues on a shared folder can read the results.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        os.chmod(temporary, _default_mode())
        yield Path(temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@contextmanager
def staged_folder(out: str | Path) -> Iterator[Path]:
    """Yield an empty staging folder inside ``out``; on success its files replace those of the same name in
    ``out``, and on failure ``out`` keeps the files it had.

    For jobs that write a set of files that belong together (``qualkit run``): each file alone is written
    atomically anyway, but an error half-way would otherwise leave a mix of old and new files.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{out} is a file, not a folder: give a folder for the outputs")
    out.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".qualkit-", dir=out))
    try:
        yield stage
        written = sorted(p for p in stage.iterdir() if p.is_file())
        blocked = [out / p.name for p in written if (out / p.name).is_dir()]
        if blocked:
            raise IsADirectoryError(f"{blocked[0]} is a folder; cannot write the output file of that name")
        for file in written:
            os.replace(file, out / file.name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def write_atomic(path: str | Path, writer: Callable[[Path], None]) -> Path:
    """Call ``writer(temporary_path)`` and move the result to ``path``."""
    with atomic_path(path) as temporary:
        writer(temporary)
    return Path(path)


def write_csv(table: pd.DataFrame, path: str | Path, index: bool = False) -> Path:
    """CSV in UTF-8 with a BOM-free header, so that pandas, R and Excel (via import) read it the same."""
    return write_atomic(path, lambda p: table.to_csv(p, index=index, encoding="utf-8"))


def write_xlsx(
    sheets: Mapping[str, pd.DataFrame], path: str | Path, percent_columns: Mapping[str, list] | None = None
) -> Path:
    """An Excel workbook with one formatted sheet per table: bold header, frozen header row, column widths,
    and percentage format on share columns (``percent_columns`` per sheet, or columns whose name says andel/share).
    """
    percent_columns = percent_columns or {}

    def writer(temporary: Path) -> None:
        with pd.ExcelWriter(temporary, engine="openpyxl") as excel:
            for name, table in sheets.items():
                sheet_name = name[:31]
                table.to_excel(excel, sheet_name=sheet_name, index=False)
                _format_sheet(excel.sheets[sheet_name], table, percent_columns.get(name))

    return write_atomic(path, writer)


def _format_sheet(sheet, table: pd.DataFrame, percent: list | None) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    sheet.freeze_panes = "B2"
    header_fill = PatternFill("solid", fgColor="DDE6F0")
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = header_fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    percent = percent if percent is not None else [c for c in table.columns if _is_share(c)]
    for j, column in enumerate(table.columns, start=1):
        values = [str(column)] + [str(v) for v in table[column].head(200)]
        width = min(max(len(v) for v in values) + 2, 60)
        sheet.column_dimensions[sheet.cell(row=1, column=j).column_letter].width = max(width, 8)
        if column in percent:
            for row in range(2, len(table) + 2):
                sheet.cell(row=row, column=j).number_format = "0.0%"


def _is_share(column: object) -> bool:
    name = str(column).lower()
    return "andel" in name or "share" in name
