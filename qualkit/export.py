"""Write tables to files safely: every file is written to a temporary name first and then renamed."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from pathlib import Path

import pandas as pd


@contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        yield Path(temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


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
