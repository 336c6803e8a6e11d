"""The project file: schema and migrations, coding API, undo, export/import, agreement, crash and concurrency."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qualkit.aggregate import themes_by_kommune
from qualkit.agree import agreement_by_code, cohen_kappa
from qualkit.errors import ProjectError
from qualkit.ingest import read_corpus
from qualkit.project import MIGRATIONS, SCHEMA_VERSION, Project, load_segments
from qualkit.project.schema import connect, migrate
from qualkit.segment import segment_documents

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "corpora" / "demo"

_CODERS = itertools.count()
CODES = ["bolig", "tjenester", "organisering", "okonomi", "brukermedvirkning"]


@pytest.fixture
def project_path(demo_project_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "demo.qualkit"
    shutil.copy(demo_project_template, path)
    return path


@pytest.fixture
def project(project_path: Path):
    with Project.open(project_path) as opened:
        yield opened


# -- file, schema, migrations -------------------------------------------------------------------------------
def test_create_sets_schema_wal_and_codebook(tmp_path: Path, codebook):
    path = tmp_path / "p.qualkit"
    with Project.create(path) as project:
        assert project.codebook.fingerprint == codebook.fingerprint
        assert project.codebook.code_names == CODES
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
    with pytest.raises(ProjectError, match="exists already"):
        Project.create(path)


def test_codebook_versions_are_kept(tmp_path: Path, codebook):
    # model_validate, not model_copy: a copy would keep the cached fingerprint of the original
    changed = type(codebook).model_validate({**codebook.model_dump(), "version": "2.0"})
    with Project.create(tmp_path / "p.qualkit", codebook=codebook) as project:
        project.set_codebook(changed)
        assert project.codebook.version == "2.0"
        assert len(project.codebooks()) == 2
        assert yaml_fingerprints(project) == {codebook.fingerprint, changed.fingerprint}


def yaml_fingerprints(project: Project) -> set[str]:
    return set(project.codebooks()["fingerprint"])


def test_newer_file_is_refused(project_path: Path):
    db = sqlite3.connect(project_path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(ProjectError, match=rf"newer qualkit \(schema version {SCHEMA_VERSION + 1}"):
        Project.open(project_path)


def test_older_file_is_migrated_in_one_transaction(project_path: Path):
    step = ["ALTER TABLE memos ADD COLUMN mood TEXT NOT NULL DEFAULT ''", "CREATE INDEX memos_mood ON memos(mood)"]
    connection = connect(project_path)
    assert migrate(connection, project_path, [*MIGRATIONS, step]) == SCHEMA_VERSION
    assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    assert "mood" in [r[1] for r in connection.execute("PRAGMA table_info(memos)")]
    connection.close()


def test_failed_migration_leaves_the_file_unchanged(project_path: Path):
    broken = ["ALTER TABLE memos ADD COLUMN mood TEXT", "ALTER TABLE no_such_table ADD COLUMN x"]
    connection = connect(project_path)
    with pytest.raises(ProjectError, match=f"migration to schema version {SCHEMA_VERSION + 1} failed.*unchanged"):
        migrate(connection, project_path, [*MIGRATIONS, broken])
    assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert "mood" not in [r[1] for r in connection.execute("PRAGMA table_info(memos)")]
    connection.close()
    Project.open(project_path).close()


def test_not_a_project_is_refused_clearly(tmp_path: Path):
    text = tmp_path / "notes.qualkit"
    text.write_text("hello", encoding="utf-8")
    with pytest.raises(ProjectError, match="notes.qualkit: not a qualkit project"):
        Project.open(text)
    other = tmp_path / "other.db"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    with pytest.raises(ProjectError, match="without a qualkit schema"):
        Project.open(other)
    connection = connect(other)
    with pytest.raises(ProjectError, match="tables of its own"):
        migrate(connection, other)
    connection.close()
    with pytest.raises(ProjectError, match="not found"):
        Project.open(tmp_path / "missing.qualkit")


def test_a_closed_project_says_so(project_path: Path):
    project = Project.open(project_path)
    project.close()
    with pytest.raises(ProjectError, match="closed"):
        project.segments()


# -- documents and segments ---------------------------------------------------------------------------------
def test_segments_match_qualkit_segment(project: Project):
    corpus = read_corpus(DEMO)
    expected = segment_documents(corpus.documents, unit="turn").sort_values(["document", "index"])
    stored = project.segments("turn")
    assert list(stored.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(stored.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False)
    for row in stored.sample(20, random_state=1).itertuples():
        assert project.document(row.document).text[row.start : row.end] == row.text


def test_adding_again_is_unchanged_and_changed_text_is_a_conflict(project: Project, tmp_path: Path):
    report = project.add_documents(DEMO)
    assert set(report["status"]) == {"unchanged"}
    changed = project.document("alta_intervju.md")
    changed.text += "\nNy linje."
    report = project.add_documents([changed])
    assert report.loc[0, "status"] == "conflict"
    assert not project.document("alta_intervju.md").text.endswith("Ny linje.")


# -- coding ---------------------------------------------------------------------------------------------------
def test_code_uncode_decide_and_coded_table(project: Project):
    ids = project.segments()["segment_id"].tolist()
    project.code(ids[0], "bolig", "A", memo="venteliste")
    project.code(ids[0], "økonomi", "A")  # an alias finds the code
    project.code(ids[1], "bolig", "A")
    project.uncode(ids[1], "bolig", "A")
    project.decide(ids[2], "A", ["tjenester"])
    codings = project.codings("A")
    assert set(codings.columns) >= {"coder", "code", "document", "segment_id", "start", "end", "value", "score",
                                    "memo", "coded_at"}
    applied = codings[codings["value"] == 1]
    assert sorted(zip(applied["segment_id"], applied["code"], strict=True)) == sorted(
        [(ids[0], "bolig"), (ids[0], "okonomi"), (ids[2], "tjenester")]
    )
    assert codings.loc[codings["memo"].notna(), "memo"].tolist() == ["venteliste"]
    table = project.coded_table("A")
    assert table.set_index("segment_id").loc[ids[0], ["bolig", "okonomi", "tjenester"]].tolist() == [1, 1, 0]
    assert table["reviewed"].sum() == 3
    themes = themes_by_kommune(table, CODES)
    assert themes["segments"].sum() == 3
    with pytest.raises(ProjectError, match="no coder 'Anna'"):
        project.coded_table("Anna")
    assert project.segments(documents=[]).empty
    with pytest.raises(ProjectError, match="no code 'husdyr'"):
        project.code(ids[0], "husdyr", "A")
    with pytest.raises(ProjectError, match="no segment"):
        project.code("nope", "bolig", "A")


def test_span_codings_count_for_overlapping_segments(project: Project):
    segments = project.segments()
    first, second = segments.iloc[0], segments.iloc[1]
    assert first["document"] == second["document"]
    project.code_span(first["document"], int(first["end"]) - 3, int(second["start"]) + 3, "bolig", "A")
    table = project.coded_table("A").set_index("segment_id")
    assert table.loc[first["segment_id"], "bolig"] == 1 and table.loc[second["segment_id"], "bolig"] == 1
    assert table["bolig"].sum() == 2
    with pytest.raises(ProjectError, match="outside the text"):
        project.code_span(first["document"], 5, 10**7, "bolig", "A")
    project.uncode(code="bolig", coder="A", document=first["document"], start=int(first["end"]) - 3,
                   end=int(second["start"]) + 3)
    assert project.coded_table("A")["bolig"].sum() == 0


def test_undo_reverses_the_last_action_of_that_coder_only(project: Project):
    ids = project.segments()["segment_id"].tolist()
    project.code(ids[0], "bolig", "A")
    project.code(ids[0], "bolig", "B")
    project.decide(ids[0], "A", ["tjenester"])  # bolig → 0, tjenester → 1
    assert project.decisions(ids[0], "A") == {"bolig": 0, "tjenester": 1, "organisering": 0, "okonomi": 0,
                                               "brukermedvirkning": 0}
    assert project.undo("A")["kind"] == "decide"
    assert project.decisions(ids[0], "A") == {"bolig": 1}
    assert project.undo("A")["kind"] == "code"
    assert project.decisions(ids[0], "A") == {}
    assert project.undo("A") is None
    assert project.decisions(ids[0], "B") == {"bolig": 1}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["code", "uncode", "undo"]), st.integers(0, 2), st.sampled_from(CODES[:3])),
                max_size=15))
def test_undo_matches_a_simple_model(project: Project, operations):
    """Random code/uncode/undo sequences leave exactly the decisions a plain undo stack predicts."""
    ids = project.segments()["segment_id"].tolist()[:3]
    coder = f"H{next(_CODERS)}"
    state: dict[tuple[str, str], int] = {}
    history: list[dict[tuple[str, str], int]] = []
    for operation, i, code in operations:
        if operation == "undo":
            project.undo(coder)
            if history:
                state = history.pop()
            continue
        value = 1 if operation == "code" else 0
        if state.get((ids[i], code)) != value:
            history.append(dict(state))
            state[(ids[i], code)] = value
        project.code(ids[i], code, coder, value=value)
    stored = {(r.segment_id, r.code): int(r.value) for r in project.codings(coder).itertuples()}
    assert stored == state


def test_model_codings_and_suggestions(project: Project, codebook):
    from qualkit.code import KeywordCoder, apply_coder

    segments = project.segments(documents=["alta_intervju.md"])
    coder = KeywordCoder(codebook)
    coded = apply_coder(segments, coder)
    written = project.add_model_codings(coded, coder.name)
    assert written == len(segments) * len(CODES)
    assert project.coders().set_index("coder").at[coder.name, "kind"] == "model"
    table = project.coded_table(coder.name, documents=["alta_intervju.md"]).set_index("segment_id")
    expected = coded.set_index("segment_id")
    assert (table[CODES] == expected[CODES]).all().all()
    assert np.allclose(table["bolig_score"], expected["bolig_score"])
    hit = expected.index[expected["bolig"] == 1][0]
    assert project.suggestions(hit)["bolig"] == pytest.approx(expected.at[hit, "bolig_score"])
    assert project.add_model_codings(coded, coder.name) == 0  # same output again: nothing changes
    project.undo(coder.name)
    assert project.codings(coder.name).empty


# -- export / import ---------------------------------------------------------------------------------------------
def test_two_coders_merge_through_export_and_import(project_path: Path, tmp_path: Path):
    copy_a, copy_b = tmp_path / "a.qualkit", tmp_path / "b.qualkit"
    with Project.open(project_path) as lead:
        lead.code(lead.segments().iloc[40]["segment_id"], "bolig", "lead")  # in the WAL only while open
        lead.backup(copy_a)
        lead.backup(copy_b)
        with pytest.raises(ProjectError, match="exists already"):
            lead.backup(copy_b)
    with Project.open(project_path) as p:
        ids = p.segments()["segment_id"].tolist()
        document = p.segments().iloc[0]["document"]
    with Project.open(copy_a) as a:
        for i in range(10):
            a.decide(ids[i], "A", ["bolig"] if i % 2 else [])
        a.code_span(document, 0, 12, "tjenester", "A", memo="spenn")
        a.add_memo("Uklart om dette er bolig", coder="A", segment_id=ids[3])
        a.export_coder("A", tmp_path / "A.jsonl")
    with Project.open(copy_b) as b:
        for i in range(10):
            b.decide(ids[i], "B", ["bolig"] if i < 5 else [])
        b.export_coder("B", tmp_path / "B.jsonl")
    with Project.open(project_path) as lead:
        report_a = lead.import_coder(tmp_path / "A.jsonl")
        report_b = lead.import_coder(tmp_path / "B.jsonl")
        assert report_a.ok and report_b.ok, (str(report_a), str(report_b))
        assert report_a.added == 10 * 5 + 1 and report_a.memos_added == 1
        assert report_b.added == 50
        with Project.open(copy_a) as a:
            assert_same_codings(lead.codings("A"), a.codings("A"))
            assert len(a.codings("lead")) == 1 and a.project_id == lead.project_id
        assert lead.memos("A")["text"].tolist() == ["Uklart om dette er bolig"]
        again = lead.import_coder(tmp_path / "A.jsonl")
        assert again.added == 0 and again.unchanged == 51 and again.memos_added == 0
        result = lead.agreement(["A", "B"])
        assert result.units == 10
        assert result.table.loc["bolig", "percent_agreement"] == pytest.approx(0.4)  # agree on 1, 3, 6, 8


def assert_same_codings(left: pd.DataFrame, right: pd.DataFrame) -> None:
    columns = ["coder", "code", "document", "segment_id", "start", "end", "value", "score", "memo", "coded_at"]
    key = ["code", "segment_id", "start"]
    pd.testing.assert_frame_equal(left[columns].sort_values(key).reset_index(drop=True),
                                  right[columns].sort_values(key).reset_index(drop=True))


def test_import_lists_every_conflict(project_path: Path, tmp_path: Path):
    other = tmp_path / "other.qualkit"
    shutil.copy(project_path, other)
    with Project.open(other) as o:
        segments = o.segments()
        ids = segments["segment_id"].tolist()
        for i in range(4):
            o.code(ids[i], "bolig", "A")
        o.code_span(segments.iloc[0]["document"], 0, 5, "okonomi", "A")
        o.export_coder("A", tmp_path / "A.jsonl")
    lines = (tmp_path / "A.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    by_segment = {r.get("segment_id"): r for r in records}
    by_segment[ids[0]]["text_hash"] = "0" * 16  # the coded text differs here
    by_segment[ids[1]]["document"] = "borte.md"  # a document this project lacks
    by_segment[ids[2]]["code"] = "husdyr"  # a code this codebook lacks
    (tmp_path / "A.jsonl").write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    with Project.open(project_path) as lead:
        lead.code(ids[3], "bolig", "A", memo="our own note")  # same coder, different decision
        report = lead.import_coder(tmp_path / "A.jsonl")
        reasons = sorted(report.conflicts["reason"])
        assert reasons == sorted(["segment text differs", "document not in this project",
                                  "code not in this project's codebook", "same coder, different decision"])
        assert report.added == 1  # the span; everything else is a listed conflict
        assert report.added + report.unchanged + len(report.conflicts) == len(records) - 1
        assert lead.codings("A").set_index("segment_id").at[ids[3], "memo"] == "our own note"
        replaced = lead.import_coder(tmp_path / "A.jsonl", on_conflict="replace")
        assert replaced.replaced == 1
        assert pd.isna(lead.codings("A").set_index("segment_id").at[ids[3], "memo"])
    (tmp_path / "bad.jsonl").write_text('{"type": "header", "format": "qualkit-coder-export"}\n{oops\n')
    with Project.open(project_path) as lead, pytest.raises(ProjectError, match=r"bad.jsonl, line 2"):
        lead.import_coder(tmp_path / "bad.jsonl")


# -- agreement ------------------------------------------------------------------------------------------------------
def test_agreement_uses_qualkit_agree_on_reviewed_segments(project: Project):
    ids = project.segments()["segment_id"].tolist()
    a = [1, 1, 0, 0, 1, 0, 1, 0]
    b = [1, 0, 0, 0, 1, 0, 1, 1]
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        project.decide(ids[i], "A", ["bolig"] if x else [])
        project.decide(ids[i], "B", ["bolig"] if y else [])
    project.code(ids[20], "bolig", "A")  # reviewed by A only: not a unit of agreement
    result = project.agreement(["A", "B"])
    assert result.units == 8
    assert result.table.loc["bolig", "kappa"] == pytest.approx(cohen_kappa(a, b)) == pytest.approx(0.5)
    assert result.table.loc["bolig", "percent_agreement"] == pytest.approx(6 / 8)
    frames = {"A": pd.DataFrame({"bolig": a}), "B": pd.DataFrame({"bolig": b})}
    assert result.table.loc["bolig", "alpha"] == pytest.approx(agreement_by_code(frames, ["bolig"]).loc["bolig",
                                                                                                      "alpha"])
    assert result.table.loc["tjenester", "percent_agreement"] == 1.0
    assert sorted(result.disagreements["segment_id"]) == sorted([ids[1], ids[7]])
    assert {"document", "kommune", "text"} <= set(result.disagreements.columns)
    assert result.summary()["units"] == 8
    with pytest.raises(ProjectError, match="no coder"):
        project.agreement(["A", "Z"])
    with pytest.raises(ProjectError, match="two different"):
        project.agreement(["A", "A"])


def test_agreement_of_three_coders_and_scope_all(project: Project):
    ids = project.segments(documents=["alta_intervju.md"])["segment_id"].tolist()
    for coder, applied in (("A", {0, 1}), ("B", {0, 1}), ("C", {0})):
        for i in range(4):
            project.decide(ids[i], coder, ["bolig"] if i in applied else [])
    result = project.agreement(["A", "B", "C"], documents=["alta_intervju.md"])
    assert "kappa" not in result.table.columns
    assert len(result.pairwise) == 3 * (len(CODES) + 1)
    assert result.table.loc["bolig", "percent_agreement"] == pytest.approx(3 / 4)
    everything = project.agreement(["A", "B"], documents=["alta_intervju.md"], scope="all")
    assert everything.units == len(ids)


# -- load_segments ----------------------------------------------------------------------------------------------------
def test_load_segments_from_project_or_folder(project_path: Path, codebook):
    from_project = load_segments(project_path)
    from_folder = load_segments(DEMO)
    assert from_project.kind == "project" and from_folder.kind == "folder"
    assert from_project.codebook.fingerprint == from_folder.codebook.fingerprint == codebook.fingerprint
    assert sorted(from_project.segments["segment_id"]) == sorted(from_folder.segments["segment_id"])
    with pytest.raises(ProjectError, match="no such"):
        load_segments(project_path.parent / "nothing")


# -- crash safety and concurrency (real processes, real SQLite) ------------------------------------------------------
WRITER = textwrap.dedent("""
    import sys
    from qualkit.project import Project
    import os, time
    path, coder, document, first, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    go = sys.argv[6] if len(sys.argv) > 6 else None
    with Project.open(path) as project:
        print("ready", flush=True)
        while go and not os.path.exists(go):  # start together with the other writer
            time.sleep(0.01)
        for i in range(first, first + count):
            project.code_span(document, i, i + 1, "bolig", coder)
            print(i, flush=True)
            if go:
                time.sleep(0.002)  # a person codes one segment at a time: let the other writer in between
""")

BULK_WRITER = textwrap.dedent("""
    import sys
    import pandas as pd
    from qualkit.project import Project
    path = sys.argv[1]
    with Project.open(path) as project:
        segments = project.segments()
        coded = segments[["segment_id"]].copy()
        for code in project.codebook.code_names:
            coded[code] = 1
            coded[code + "_score"] = 0.9
        print("ready", flush=True)
        for round in range(1000):
            project.add_model_codings(coded, f"model:bulk@{round}")
            print(round, flush=True)
""")


def _python(script: str, *args: object) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-c", script, *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)


def _read_until(process: subprocess.Popen, target: int) -> int:
    last = -1
    for line in process.stdout:
        if line.strip() == "ready":
            continue
        last = int(line)
        if last >= target:
            return last
    raise AssertionError(f"writer ended early: {process.stderr.read()}")


@pytest.mark.parametrize("kill_after", [5, 37, 90])
def test_killed_writer_leaves_the_last_committed_state(project_path: Path, kill_after: int):
    with Project.open(project_path) as project:
        document = project.segments().iloc[0]["document"]
    writer = _python(WRITER, project_path, "K", document, 0, 100_000)
    _read_until(writer, kill_after)
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=30)
    reported = [int(line) for line in writer.stdout.read().split()]  # commits reported before the kill landed
    last = max([kill_after, *reported])
    with Project.open(project_path) as project:
        assert project.integrity_check() == "ok"
        starts = sorted(project.codings("K")["start"])
    assert starts[: last + 1] == list(range(last + 1)), "a committed coding is missing"
    assert len(starts) in (last + 1, last + 2)  # at most the one in flight when killed, and then complete
    assert starts == list(range(len(starts)))
    assert len(project_actions(project_path)) == len(starts)


def test_killed_bulk_writer_commits_whole_actions_only(project_path: Path):
    writer = _python(BULK_WRITER, project_path)
    last = _read_until(writer, 2)
    time.sleep(0.05)  # land the kill inside a later bulk transaction
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=30)
    with Project.open(project_path) as project:
        assert project.integrity_check() == "ok"
        counts = project.codings().groupby("coder").size()
        full = len(project.segments()) * len(CODES)
    assert len(counts) >= last + 1
    assert (counts == full).all(), counts[counts != full]
    assert set(project_actions(project_path)) == set(counts.index)


def project_actions(path: Path) -> list[str]:
    with Project.open(path) as project:
        return project.actions()["coder"].tolist()


def test_two_processes_coding_at_once(project_path: Path):
    with Project.open(project_path) as project:
        document = project.segments().iloc[0]["document"]
    n = 150
    go = project_path.parent / "go"
    writers = [_python(WRITER, project_path, coder, document, first, n, go)
               for coder, first in (("P1", 0), ("P2", 500))]
    for writer in writers:
        assert writer.stdout.readline().strip() == "ready", writer.stderr.read()
    started = time.perf_counter()
    go.touch()
    outputs = [w.communicate(timeout=300) for w in writers]
    elapsed = time.perf_counter() - started
    for writer, (_out, err) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, err
    with Project.open(project_path) as project:
        assert project.integrity_check() == "ok"
        codings = project.codings()
        assert sorted(codings.loc[codings["coder"] == "P1", "start"]) == list(range(0, n))
        assert sorted(codings.loc[codings["coder"] == "P2", "start"]) == list(range(500, 500 + n))
        assert len(project.actions()) == 2 * n
    times = codings.groupby("coder")["coded_at"].agg(["min", "max"])
    assert times.loc["P1", "min"] < times.loc["P2", "max"] and times.loc["P2", "min"] < times.loc["P1", "max"], (
        "the writers did not overlap, so this test proved nothing")
    print(f"two writers: {2 * n} single-coding transactions in {elapsed:.2f}s ({2 * n / elapsed:.0f}/s)")


# -- atomic creation, read-only opening, bulk span coding, span memos (review s16) ----------------------------
def test_a_failed_create_leaves_no_file(tmp_path: Path):
    """Finding 12: a project is built in a temporary file and only then given its name."""
    from typer.testing import CliRunner

    from qualkit.cli.project_cmd import app

    path = tmp_path / "p.qualkit"
    result = CliRunner().invoke(app, ["create", str(path), "--from", str(tmp_path / "finnes_ikke")])
    assert result.exit_code == 2 and "not found" in result.output
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(KeyboardInterrupt), Project.build(path) as project:
        project.add_documents(DEMO)
        raise KeyboardInterrupt  # Ctrl-C while segmenting
    assert list(tmp_path.iterdir()) == []
    result = CliRunner().invoke(app, ["create", str(path), "--from", str(DEMO)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.qualkit"]
    with Project.open(path) as project:
        assert len(project.documents()) > 0 and len(project.segments()) > 0
    with pytest.raises(ProjectError, match="exists already"), Project.build(path):
        pass


def test_reading_does_not_wait_for_a_writer(project_path: Path, monkeypatch):
    """Finding 10: opening an up-to-date file takes no lock; a write that has to wait says the project is locked."""
    from qualkit.project import schema

    monkeypatch.setattr(schema, "BUSY_TIMEOUT_S", 0.2)
    writer = sqlite3.connect(project_path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO meta VALUES ('x', 'y')")
    try:
        started = time.monotonic()
        with Project.open(project_path, readonly=True) as project:
            assert len(project.documents()) > 0
            with pytest.raises(ProjectError, match="cannot be written"):
                project.add_memo("nei")
        with Project.open(project_path) as project:  # an ordinary open does not wait either
            assert project.codings().empty
            with pytest.raises(ProjectError, match="locked by another process"):
                project.add_memo("vent")
        assert time.monotonic() - started < 5
    finally:
        writer.execute("ROLLBACK")
        writer.close()


@pytest.mark.skipif(not shutil.which("unshare") or os.geteuid() != 0, reason="needs unshare and root to mount "
                    "a folder read-only")
def test_a_project_in_a_read_only_folder_can_be_read(project_path: Path, tmp_path: Path):
    """Finding 10: a project on a read-only share or stick can be exported."""
    folder = project_path.parent
    old = folder / "v1.qualkit"  # a file of an older schema, which cannot be migrated there, is read as it is
    connection = connect(old, create=True)
    migrate(connection, old, MIGRATIONS[:1])
    connection.execute("INSERT INTO meta VALUES ('project_id', 'x')")
    connection.execute("INSERT INTO memos (text, created_at) VALUES ('gammelt', 'nå')")
    connection.close()
    script = (f"from qualkit.project import Project\nwith Project.open({str(project_path)!r}, readonly=True) as p:\n"
              "    print(len(p.documents()), len(p.segments()))\n"
              f"with Project.open({str(old)!r}, readonly=True) as p:\n    print(p.memos()['text'].tolist())\n")
    mount = f"mount --bind {folder} {folder} && mount -o remount,ro,bind {folder} && {sys.executable} -c \"$0\""
    result = subprocess.run(["unshare", "-m", "sh", "-c", mount, script], capture_output=True, text=True)
    if "mount" in result.stderr and result.returncode != 0 and "Traceback" not in result.stderr:
        pytest.skip(f"cannot mount read-only here: {result.stderr.strip()}")
    assert result.returncode == 0, result.stderr
    counts, memos = result.stdout.splitlines()
    documents, segments = map(int, counts.split())
    assert documents > 0 and segments > 0 and memos == "['gammelt']"


def test_code_spans_is_one_action_and_recognises_segment_codings(project: Project):
    segment = project.segments().iloc[0]
    document, start, end = segment["document"], int(segment["start"]), int(segment["end"])
    project.code(segment["segment_id"], "bolig", coder="A")
    before = len(project.actions())
    result = project.code_spans([
        {"document": document, "start": start, "end": end, "code": "bolig"},           # = the segment coding
        {"document": document, "start": start, "end": start + 4, "code": "okonomi", "memo": "m"},
        {"document": document, "start": start, "end": start + 4, "code": "okonomi", "memo": "m"},
        {"document": document, "start": 0, "end": 10 ** 9, "code": "bolig"},
        {"document": "finnes_ikke.md", "start": 0, "end": 3, "code": "bolig"},
        {"document": document, "start": start, "end": end, "code": "ukjent"},
    ], coder="A", kind="refi_import")
    assert result["status"].tolist() == ["unchanged", "added", "unchanged", "refused", "refused", "refused"]
    assert "outside the text" in result.at[3, "reason"] and "no document" in result.at[4, "reason"]
    assert "ukjent" in result.at[5, "reason"]
    assert len(project.actions()) == before + 1 and len(project.codings("A")) == 2
    project.undo("A")
    assert len(project.codings("A")) == 1


def test_transaction_is_all_or_nothing(project: Project):
    before = (len(project.codings()), len(project.memos()))
    segment_id = project.segments().iloc[0]["segment_id"]
    with pytest.raises(RuntimeError), project.transaction():
        project.code(segment_id, "bolig", coder="A")
        project.add_memo("et notat")
        with pytest.raises(ProjectError):  # a failed write inside is undone alone; the rest goes on
            project.code(segment_id, "ukjent", coder="A")
        raise RuntimeError("stopp")
    assert (len(project.codings()), len(project.memos())) == before
    with project.transaction():
        project.code(segment_id, "bolig", coder="A")
        project.add_memo("et notat")
    assert (len(project.codings()), len(project.memos())) == (before[0] + 1, before[1] + 1)


def test_memos_on_spans_and_segments_and_no_doubles(project: Project):
    segment = project.segments().iloc[2]
    project.add_memo("om spennet", coder="A", document=segment["document"], start=3, end=9)
    project.add_memo("om segmentet", coder="A", segment_id=segment["segment_id"])
    first = project.add_memo("igjen", coder="B", if_new=True)
    assert project.add_memo("igjen", coder="B", if_new=True) == first
    memos = project.memos().set_index("text")
    assert (memos.at["om spennet", "start"], memos.at["om spennet", "end"]) == (3, 9)
    assert (memos.at["om segmentet", "start"], memos.at["om segmentet", "end"]) == (segment["start"], segment["end"])
    assert pd.isna(memos.at["igjen", "start"]) and len(memos) == 3
    with pytest.raises(ProjectError, match="span needs a document"):
        project.add_memo("halv", start=3)


def test_a_version_1_file_gets_span_columns_for_memos(tmp_path: Path):
    path = tmp_path / "v1.qualkit"
    connection = connect(path, create=True)
    migrate(connection, path, MIGRATIONS[:1])
    connection.execute("INSERT INTO meta VALUES ('project_id', 'x')")
    connection.execute("INSERT INTO memos (text, created_at) VALUES ('gammelt', 'nå')")
    connection.close()
    with Project.open(path, readonly=True) as project:  # brought up to date once, then read
        assert project.memos()[["text", "start"]].astype(object).values.tolist() == [["gammelt", pd.NA]]
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_version_2_file_is_upgraded_to_keep_refi_elements(tmp_path: Path):
    """Schema 3 adds the table of what REFI-QDA imports bring (GUIDs, colours, cases, sets); an older file gets it
    when opened, in one transaction, and keeps its content."""
    path = tmp_path / "v2.qualkit"
    connection = connect(path, create=True)
    migrate(connection, path, MIGRATIONS[:2])
    connection.execute("INSERT INTO meta VALUES ('project_id', 'x')")
    connection.execute("INSERT INTO memos (text, created_at, start, \"end\") VALUES ('om spennet', 'nå', 2, 7)")
    connection.close()
    with Project.open(path) as project:  # an ordinary open migrates, and reads the file as the new version
        assert project.memos()[["text", "start", "end"]].values.tolist() == [["om spennet", 2, 7]]
        assert project.refi_elements().empty
        project.keep_refi_elements([{"kind": "user", "key": "Kari", "guid": "0A0A0A0A-0000-0000-0000-000000000001"}])
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    assert db.execute("SELECT kind, key FROM refi_elements").fetchall() == [("user", "Kari")]


def test_keep_refi_elements_keeps_the_first_guid(project: Project):
    code = "AAAAAAAA-0000-0000-0000-00000000000A"
    first = project.keep_refi_elements([
        {"kind": "code", "key": "bolig", "guid": code, "data": {"color": "#FF0000"}},
        {"kind": "user", "key": "Kari", "guid": "0A0A0A0A-0000-0000-0000-000000000001"},
    ])
    assert first["status"].tolist() == ["added", "added"]
    again = project.keep_refi_elements([
        {"kind": "code", "key": "bolig", "guid": code, "data": {"color": "#00FF00"}},             # colour changed
        {"kind": "user", "key": "Kari", "guid": "0A0A0A0A-0000-0000-0000-000000000001"},        # the same again
        {"kind": "code", "key": "bolig", "guid": "BBBBBBBB-0000-0000-0000-00000000000B"},       # another GUID
        {"kind": "code", "key": "okonomi", "guid": code},                                        # a taken GUID
    ])
    assert again["status"].tolist() == ["updated", "unchanged", "refused", "refused"]
    assert "keeps the GUID" in again.at[2, "reason"] and "belongs to code 'bolig'" in again.at[3, "reason"]
    elements = project.refi_elements("code")
    assert elements[["key", "guid"]].values.tolist() == [["bolig", code]]
    assert elements.at[0, "data"] == {"color": "#00FF00"}
