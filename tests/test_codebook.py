"""Codebook schema: the default codebook loads; malformed ones fail naming file, line and field."""

from pathlib import Path

import pytest

from qualkit.codebook import load_codebook, parse_codebook
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
    with pytest.raises(CodebookError, match=f"code name '{name}' is a column of the segment table already"):
        parse_codebook(VALID.replace("name: bolig", f"name: {name}"))


def test_duplicate_names_and_bad_patterns_are_refused():
    with pytest.raises(CodebookError, match="occurs twice"):
        parse_codebook(VALID.replace("name: okonomi", "name: bolig"))
    with pytest.raises(CodebookError, match="prefix"):
        parse_codebook(VALID.replace("[bolig*]", "['*bolig']"))


def test_missing_file_and_non_mapping():
    with pytest.raises(CodebookError, match="not found"):
        load_codebook("finnes/ikke.yaml")
    with pytest.raises(CodebookError, match="line 1"):
        parse_codebook("- bare\n- en liste\n")
