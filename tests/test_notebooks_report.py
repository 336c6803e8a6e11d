"""The report-tables notebook executes from top to bottom and writes the report files."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def test_report_notebook_executes(tmp_path, monkeypatch):
    monkeypatch.setenv("QUALKIT_REPORT_OUT", str(tmp_path / "rapport"))
    notebook = nbformat.read(NOTEBOOKS / "03_report_tables.ipynb", as_version=4)
    resources = {"metadata": {"path": str(NOTEBOOKS)}}
    client = NotebookClient(notebook, timeout=600, kernel_name="python3", resources=resources)
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 2, "the bar chart and heatmap are shown"
    for name in ("rapport.xlsx", "rapport.md", "rapport.html", "rapport.docx", "csv/themes.csv"):
        assert (tmp_path / "rapport" / name).exists(), name
