"""Codebook schema: the default codebook loads; malformed ones fail naming file, line and field."""

from pathlib import Path

import pytest

from qualkit.codebook import is_reserved, load_codebook, parse_codebook, reserved_names
from qualkit.errors import CodebookError

VALID = """\
name: mini
label: Mini
codes:
  - name: bolig
    label: Bolig
    definition: Boligen.
    keywords: [bolig*]
  - name: okonomi
    label: Økonomi
    aliases: [økonomi]
    definition: Penger.
"""


def test_default_codebook_has_the_five_themes_with_norwegian_labels(codebook):
    assert codebook.code_names == ["bolig", "tjenester", "organisering", "okonomi", "brukermedvirkning"]
    assert codebook.labels["okonomi"] == "Økonomi og finansiering"
    for code in codebook.codes:
        assert code.definition and code.include and code.exclude and code.examples and code.keywords
    assert [c.name for c in codebook.code("okonomi").subcodes] == ["okonomi_kommune", "okonomi_individ"]
    assert codebook.code("Økonomi").name == "okonomi"


def test_fingerprint_changes_with_content():
    first = parse_codebook(VALID)
    second = parse_codebook(VALID.replace("Penger.", "Penger og lån."))
    assert first.fingerprint != second.fingerprint
    assert first.fingerprint == parse_codebook(VALID).fingerprint


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path):
    path = tmp_path / "feil.yaml"
    path.write_text(VALID.replace("    keywords: [bolig*]", "    keywords: [bolig*"), encoding="utf-8")
    with pytest.raises(CodebookError, match=r"feil\.yaml, line \d+: YAML syntax error"):
        load_codebook(path)


def test_missing_field_names_line_and_field(tmp_path: Path):
    path = tmp_path / "mangler.yaml"
    path.write_text(VALID.replace("    definition: Penger.\n", ""), encoding="utf-8")
    with pytest.raises(CodebookError) as error:
        load_codebook(path)
    message = str(error.value)
    assert "mangler.yaml, line 8, field codes[1].definition: Field required" in message


def test_wrong_type_names_the_line_of_the_value(tmp_path: Path):
    path = tmp_path / "type.yaml"
    path.write_text(VALID.replace("keywords: [bolig*]", "keywords: bolig"), encoding="utf-8")
    with pytest.raises(CodebookError, match=r"line 7, field codes\[0\]\.keywords: Input should be a valid list"):
        load_codebook(path)


def test_unknown_field_and_bad_code_name_are_reported():
    with pytest.raises(CodebookError, match=r"field codes\[0\]\.keyword: Extra inputs are not permitted"):
        parse_codebook(VALID.replace("keywords:", "keyword:"))
    with pytest.raises(CodebookError, match="must be lower-case"):
        parse_codebook(VALID.replace("name: bolig", "name: Bolig Tema"))


@pytest.mark.parametrize("name", ["kommune", "text", "start", "speaker", "bolig_score"])
def test_a_code_named_like_a_column_of_the_segment_table_is_refused(name):
    """A code becomes a 0/1 column (and a <code>_score column): "kommune" would overwrite the kommune column."""
    with pytest.raises(CodebookError, match=f"code name '{name}' is a column qualkit uses already"):
        parse_codebook(VALID.replace("name: bolig", f"name: {name}"))


def test_duplicate_names_and_bad_patterns_are_refused():
    with pytest.raises(CodebookError, match="occurs twice"):
        parse_codebook(VALID.replace("name: okonomi", "name: bolig"))
    with pytest.raises(CodebookError, match="prefix"):
        parse_codebook(VALID.replace("[bolig*]", "['*bolig']"))


@pytest.mark.parametrize("name", ["next_text", "previous_text", "line", "line_end", "uncertainty", "priority",
                                  "attributed_kommunenummer"])
def test_a_code_named_like_a_column_another_step_adds_is_refused_with_file_line_and_field(tmp_path, name):
    """Finding F3: such a name passed validation, then training crashed with a pandas traceback."""
    path = tmp_path / "koll.yaml"
    path.write_text(VALID.replace("name: okonomi", f"name: {name}"), encoding="utf-8")
    with pytest.raises(CodebookError, match=rf"koll\.yaml, line 8, field codes\[1\]\.name: .*'{name}' is a column "
                       rf"qualkit uses already .*call it e\.g\. {name}_kode"):
        load_codebook(path)


def test_every_column_qualkits_steps_add_next_to_the_codes_is_reserved(tmp_path, codebook):
    """Runs the steps that add columns to a table that holds code columns; each added column must be reserved,
    so that the list in qualkit.codebook cannot fall behind the code (finding F3)."""
    from qualkit.active import suggest
    from qualkit.classify import add_context, default_classifier, read_labels
    from qualkit.ingest import Document
    from qualkit.kommune import attribute_segments
    from qualkit.report import add_line_numbers
    from qualkit.segment import segment_documents

    text = ("Moderator: Korleis er bustadsituasjonen?\n\nD1: Det er for få kommunale bustader i Volda.\n\n"
            "Moderator: Og økonomien?\n\nD2: Husleiga er for høg.\n")
    document = Document("fg.txt", text, {"kommune": "Volda", "kilde": "fokusgruppe"})
    segments = segment_documents([document], unit="turn")
    labels = tmp_path / "labels.csv"
    labels.write_text("text,codes\nDet er for få kommunale bustader i Volda.,bolig\n", encoding="utf-8")
    added = {
        "segment_documents(attribute=True)": segment_documents([document], unit="turn", attribute=True),
        "add_context": add_context(segments),
        "read_labels": read_labels(labels, segments, codebook),
        "add_line_numbers": add_line_numbers(segments, {"fg.txt": text}),
        "attribute_segments": attribute_segments(segments),
        "suggest": suggest(default_classifier(codebook), segments, n=2, random_state=0),
    }
    code_columns = {*codebook.code_names, *(f"{name}_score" for name in codebook.code_names)}
    for step, table in added.items():
        unreserved = [c for c in table.columns if c not in code_columns and not c.startswith("_")
                      and not is_reserved(c)]
        assert not unreserved, f"{step} adds {unreserved}: add them to qualkit.codebook.ADDED_COLUMNS"


def test_refi_import_renames_every_reserved_name():
    """A REFI code named like a reserved column is renamed on import (``line`` → ``line_kode``) rather than
    making a codebook the validator refuses."""
    from qualkit.refi.adapters import is_reserved as refi_reserved

    assert [name for name in reserved_names() if not refi_reserved(name)] == []


def test_a_duplicate_name_is_reported_where_it_occurs_the_second_time(tmp_path):
    """Finding F8: it was reported at 'line 1, field (top level)'."""
    path = tmp_path / "dup.yaml"
    path.write_text(VALID + "    subcodes:\n      - name: bolig\n        label: Bolig igjen\n"
                    "        definition: Same namn.\n", encoding="utf-8")
    with pytest.raises(CodebookError, match=r"dup\.yaml, line 13, field codes\[1\]\.subcodes\[0\]\.name: .*"
                       r"'bolig' occurs twice \(first as codes\[0\]\.name\)"):
        load_codebook(path)
    with pytest.raises(CodebookError, match=r"line 11, field codes\[1\]\.aliases\[0\]: .*'bolig' occurs twice"):
        parse_codebook(VALID.replace("aliases: [økonomi]", "aliases:\n      - bolig"))


def test_a_phrase_may_have_a_wildcard_on_every_word():
    """The keyword matcher reads ``kommunal* bolig*`` as a phrase of two prefixes; the validator refused it."""
    from qualkit.code import KeywordCoder

    book = parse_codebook(VALID.replace("[bolig*]", "['Kommunal* bolig*', 'housing first']"))
    assert book.codes[0].keywords == ["kommunal* bolig*", "housing first"]
    assert KeywordCoder(book).predict(["Dei kommunale bustadene og kommunale boligene."])[0].tolist() == [1, 0]
    for bad in ["kommunal*bolig", "kommunal* *", "* bolig"]:
        with pytest.raises(CodebookError, match="prefix"):
            parse_codebook(VALID.replace("[bolig*]", f"['{bad}']"))


def test_missing_file_and_non_mapping():
    with pytest.raises(CodebookError, match="not found"):
        load_codebook("finnes/ikke.yaml")
    with pytest.raises(CodebookError, match="line 1"):
        parse_codebook("- bare\n- en liste\n")
