"""Theme tables equal hand counts on a small fixture."""

import pandas as pd
import pytest

from qualkit.aggregate import pivot_themes, theme_table_for_people, themes_by_kommune

# Seven segments in three documents; counted by hand below.
FIXTURE = pd.DataFrame(
    [
        ("a.md", "Bergen", "D1", 1, 0),
        ("a.md", "Bergen", "D2", 1, 1),
        ("a.md", "Bergen", "D1", 0, 1),
        ("a.md", "Bergen", "", 0, 0),
        ("b.md", "Bergen", "D1", 1, 0),
        ("c.md", "Alta", "Informant", 0, 1),
        ("c.md", "Alta", "Informant", 0, 1),
    ],
    columns=["document", "kommune", "speaker", "bolig", "okonomi"],
)


def test_counts_shares_documents_and_speakers_match_hand_counts():
    table = themes_by_kommune(FIXTURE, ["bolig", "okonomi"], {"bolig": "Bolig og botilbud"}).set_index(
        ["kommune", "code"]
    )
    # Bergen: 5 segments; bolig in 3 (a D1, a D2, b D1) -> 2 documents, 3 distinct (document, speaker) pairs.
    assert table.loc[("Bergen", "bolig")].to_dict() == {
        "label": "Bolig og botilbud", "segments": 3, "share": 0.6, "documents": 2, "speakers": 3, "kommune_segments": 5
    }
    # Bergen okonomi: a D2 and a D1 -> 2 segments, 1 document, 2 speakers.
    assert table.loc[("Bergen", "okonomi"), ["segments", "documents", "speakers"]].tolist() == [2, 1, 2]
    # Alta: 2 segments, both okonomi, one speaker; no bolig.
    assert table.loc[("Alta", "okonomi"), ["segments", "share", "speakers"]].tolist() == [2, 1.0, 1]
    assert table.loc[("Alta", "bolig"), "segments"] == 0
    assert table.loc[("Alta", "okonomi"), "label"] == "okonomi"


def test_wide_views():
    table = themes_by_kommune(FIXTURE, ["bolig", "okonomi"])
    wide = pivot_themes(table)
    assert wide.loc["Bergen"].tolist() == [3, 2] and wide.loc["Alta"].tolist() == [0, 2]
    people = theme_table_for_people(table).set_index("Kommune")
    assert people.loc["Bergen", "Segmenter"] == 5
    assert people.loc["Bergen", "bolig (andel)"] == pytest.approx(0.6)


def test_missing_code_column_is_a_clear_error():
    with pytest.raises(KeyError, match="tjenester"):
        themes_by_kommune(FIXTURE, ["bolig", "tjenester"])
