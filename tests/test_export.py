"""Safe writing of output files: atomic files with ordinary permissions, and sets of files that belong together."""

import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from qualkit.export import staged_folder, write_csv


def test_written_files_get_the_permissions_of_any_new_file(tmp_path: Path):
    """mkstemp creates owner-only files; results on a shared folder must be readable as the umask allows."""
    previous = os.umask(0o022)
    try:
        path = write_csv(pd.DataFrame({"a": [1]}), tmp_path / "tabell.csv")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_a_staged_set_replaces_the_old_files_only_when_all_were_written(tmp_path: Path):
    out = tmp_path / "ut"
    out.mkdir()
    (out / "a.txt").write_text("gammel a")
    (out / "b.txt").write_text("gammel b")
    with pytest.raises(RuntimeError):
        with staged_folder(out) as stage:
            (stage / "a.txt").write_text("ny a")
            raise RuntimeError("the heatmap failed")
    assert (out / "a.txt").read_text() == "gammel a" and (out / "b.txt").read_text() == "gammel b"
    assert sorted(p.name for p in out.iterdir()) == ["a.txt", "b.txt"]  # no staging folder left behind

    with staged_folder(out) as stage:
        (stage / "a.txt").write_text("ny a")
        (stage / "b.txt").write_text("ny b")
    assert (out / "a.txt").read_text() == "ny a" and (out / "b.txt").read_text() == "ny b"
    assert sorted(p.name for p in out.iterdir()) == ["a.txt", "b.txt"]


def test_a_staged_set_refuses_a_folder_in_the_way_before_moving_anything(tmp_path: Path):
    out = tmp_path / "ut"
    (out / "b.txt").mkdir(parents=True)
    (out / "a.txt").write_text("gammel a")
    with pytest.raises(IsADirectoryError, match="b.txt is a folder"):
        with staged_folder(out) as stage:
            (stage / "a.txt").write_text("ny a")
            (stage / "b.txt").write_text("ny b")
    assert (out / "a.txt").read_text() == "gammel a"


def test_the_output_folder_must_not_be_a_file(tmp_path: Path):
    (tmp_path / "ut").write_text("")
    with pytest.raises(NotADirectoryError, match="is a file, not a folder"):
        with staged_folder(tmp_path / "ut"):
            pass
