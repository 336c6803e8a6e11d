"""Execute notebooks/02_coding.ipynb end to end with nbclient.

The kernel is the ``python3`` kernelspec. ipykernel installs that spec into ``<venv>/share/jupyter/kernels``
when it is pip-installed, so a clean venv with ipykernel has it without ``ipykernel install``; its command is
``python -m ipykernel_launcher``, which jupyter_client replaces by ``sys.executable``, so the notebook runs in
this very venv. The test installs nothing: without the kernelspec it skips and says why.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "02_coding.ipynb"
WIDGET = "application/vnd.jupyter.widget-view+json"


def _kernel_available() -> str | None:
    try:
        from jupyter_client.kernelspec import KernelSpecManager
    except ImportError:
        return "jupyter_client is not installed (pip install nbclient ipykernel)"
    if "python3" not in KernelSpecManager().find_kernel_specs():
        return "no 'python3' Jupyter kernelspec (pip install ipykernel in this environment)"
    return None


@pytest.fixture(scope="module")
def executed():
    reason = _kernel_available()
    if reason:
        pytest.skip(reason)
    import nbclient
    import nbformat

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()  # raises CellExecutionError naming the cell if any cell fails
    return notebook


def _outputs(notebook) -> list[dict]:
    return [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]


def test_notebook_runs_without_errors(executed):
    assert not [o for o in _outputs(executed) if o.output_type == "error"]
    assert all(cell.execution_count for cell in executed.cells if cell.cell_type == "code")


def test_notebook_shows_the_widget_agreement_and_displacy(executed):
    outputs = _outputs(executed)
    assert any(WIDGET in o.get("data", {}) for o in outputs), "the CodingView widget was not displayed"
    texts = "\n".join(o.get("text", "") + json.dumps(o.get("data", {}), ensure_ascii=False) for o in outputs)
    assert "percent_agreement" in texts and "kappa" in texts and "alpha" in texts
    displacy = [o["data"]["text/html"] for o in outputs if 'class="spans"' in o.get("data", {}).get("text/html", "")]
    assert displacy and "Organisering og samarbeid" in displacy[0], "no displaCy span rendering with the code label"
    assert "conflict(s)" in texts  # the import report
