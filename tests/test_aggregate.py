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


# --- said in / said about, filters, fylke, coders -----------------------------------------------------------

from qualkit.aggregate import coded_tables, consensus_table, filter_segments, themes_by_coder  # noqa: E402

# document, kommune, attributed_kommune, fylke, kilde, role, dato, speaker, bolig, okonomi
RICH = pd.DataFrame(
    [
        ("a.md", "Bergen", "Bergen", "Vestland", "fokusgruppe", "NAV-veileder", "2025-01-10", "D1", 1, 0),
        ("a.md", "Bergen", "Askøy", "Vestland", "fokusgruppe", "moderator", "2025-01-10", "M", 1, 1),
        ("a.md", "Bergen", "", "Vestland", "fokusgruppe", "NAV-veileder", "2025-01-10", "D1", 0, 1),
        ("b.md", "Askøy", "Askøy", "Vestland", "intervju", "beboer", "2025-03-01", "I", 1, 0),
        ("c.md", "Alta", "Alta", "Finnmark", "workshop", "", "2024-11-20", "", 0, 1),
        ("c.md", "Alta", "Bergen", "Finnmark", "workshop", "", "2024-11-20", "", 1, 1),
    ],
    columns=["document", "kommune", "attributed_kommune", "fylke", "kilde", "role", "dato", "speaker", "bolig",
             "okonomi"],
).assign(segment_id=lambda t: [f"s{i}" for i in range(len(t))])


def test_said_about_groups_on_attributed_kommune_and_drops_unattributed():
    table = themes_by_kommune(RICH, ["bolig", "okonomi"], by="about").set_index(["kommune", "code"])
    assert table.attrs["by"] == "attributed_kommune"
    # About Bergen: a.md row 0 (bolig) and c.md row 5 (bolig, okonomi) -> 2 segments, bolig 2 in 2 documents.
    columns = ["segments", "share", "documents", "kommune_segments"]
    assert table.loc[("Bergen", "bolig"), columns].tolist() == [2, 1.0, 2, 2]
    # About Askøy: a.md row 1 (bolig, okonomi) and b.md (bolig) -> bolig 2 of 2, okonomi 1 of 2.
    assert table.loc[("Askøy", "okonomi"), ["segments", "share"]].tolist() == [1, 0.5]
    assert table.loc[("Alta", "okonomi"), "segments"] == 1 and table.loc[("Alta", "bolig"), "segments"] == 0
    assert table.groupby(level=0)["kommune_segments"].first().sum() == 5  # the unattributed row is left out


def test_fylke_level_and_filters():
    fylke = themes_by_kommune(RICH, ["bolig"], by="fylke").set_index("kommune")
    assert fylke.loc["Vestland", ["segments", "kommune_segments", "documents"]].tolist() == [3, 4, 2]
    assert fylke.loc["Finnmark", ["segments", "kommune_segments"]].tolist() == [1, 2]
    assert len(filter_segments(RICH, kilde="Fokusgruppe")) == 3
    assert len(filter_segments(RICH, exclude_roles=["moderator"])) == 5
    assert len(filter_segments(RICH, role=["beboer", "nav-veileder"])) == 3
    assert len(filter_segments(RICH, date_from="2025-01-01")) == 4
    assert len(filter_segments(RICH, date_from="2025-01-01", date_to="2025-02-01")) == 3
    filtered = themes_by_kommune(RICH, ["bolig"], kilde=["fokusgruppe", "intervju"], exclude_roles=["moderator"])
    # Bergen: rows 0 and 2 remain, bolig in row 0 -> 1 of 2; Askøy 1 of 1; Alta gone.
    assert filtered.set_index("kommune")["segments"].to_dict() == {"Askøy": 1, "Bergen": 1}
    assert filtered.attrs["filters"]["kilde"] == ["fokusgruppe", "intervju"]


def _coder_table(bolig):
    return RICH.drop(columns=["bolig", "okonomi"]).assign(bolig=bolig, okonomi=0)


def test_consensus_is_the_majority_of_human_coders():
    tables = {"anna": _coder_table([1, 1, 0, 0, 1, 0]), "bo": _coder_table([1, 0, 0, 1, 1, 0]),
              "cai": _coder_table([0, 1, 0, 1, 1, 1]), "model:x": _coder_table([1, 1, 1, 1, 1, 1])}
    out = coded_tables(tables, ["bolig", "okonomi"])
    assert list(out) == ["anna", "bo", "cai", "model:x", "consensus"]
    assert out["consensus"]["bolig"].tolist() == [1, 1, 0, 1, 1, 0]
    # With two coders a tie (1 vs 0) is not a majority.
    two = consensus_table(tables, ["bolig"], ["anna", "bo"])
    assert two["bolig"].tolist() == [1, 0, 0, 0, 1, 0]
    by_coder = themes_by_coder(out, ["bolig"]).set_index(["coder", "kommune"])
    assert by_coder.loc[("consensus", "Bergen"), "segments"] == 2
    assert by_coder.loc[("model:x", "Alta"), "segments"] == 2


def test_tidy_codings_frame_becomes_one_table_per_coder():
    codings = pd.DataFrame(
        [("anna", "s0", "bolig", 1, None), ("anna", "s3", "okonomi", 1, None), ("anna", "s5", "bolig", 0, None),
         ("model", "s0", "bolig", 1, 0.9), ("model", "s1", "bolig", 0, 0.2)],
        columns=["coder", "segment_id", "code", "value", "score"],
    )
    tables = coded_tables(codings, ["bolig", "okonomi"], segments=RICH, human=["anna"])
    anna = tables["anna"].set_index("segment_id")
    assert anna.index.tolist() == ["s0", "s3", "s5"]
    assert anna["bolig"].tolist() == [1, 0, 0] and anna["okonomi"].tolist() == [0, 1, 0]
    model = tables["model"].set_index("segment_id")
    assert model["bolig_score"].tolist() == [0.9, 0.2]
    assert tables["consensus"].set_index("segment_id")["bolig"].tolist() == [1, 0, 0]


# --- Norwegian alphabetical order ------------------------------------------------------------------------------

# By code point these sort Aremark, Gamvik, Guovdageaidnu, Gáivuotna, Oslo, Årdal, Ås, Ørland.
NORWEGIAN_ORDER = ["Aremark", "Gáivuotna", "Gamvik", "Guovdageaidnu", "Oslo", "Ørland", "Årdal", "Ås"]


def _segments_in(kommuner, fylker=None):
    rows = [(f"{k}.md", k, (fylker or {}).get(k, ""), "D1", i % 2, 1) for i, k in enumerate(reversed(kommuner))]
    return pd.DataFrame(rows, columns=["document", "kommune", "fylke", "speaker", "bolig", "okonomi"])


def test_kommuner_come_in_norwegian_alphabetical_order():
    table = themes_by_kommune(_segments_in(NORWEGIAN_ORDER), ["bolig", "okonomi"])
    assert list(dict.fromkeys(table["kommune"])) == NORWEGIAN_ORDER
    assert table["code"].tolist()[:2] == ["bolig", "okonomi"]  # themes keep their order within a kommune
    assert pivot_themes(table).index.tolist() == NORWEGIAN_ORDER
    assert theme_table_for_people(table)["Kommune"].tolist() == NORWEGIAN_ORDER
    # a table in another order is pivoted in Norwegian order all the same
    assert pivot_themes(table.iloc[::-1]).index.tolist() == NORWEGIAN_ORDER


def test_fylker_and_coders_tables_come_in_norwegian_alphabetical_order():
    fylker = {"Aremark": "Østfold", "Oslo": "Oslo", "Ørland": "Trøndelag", "Årdal": "Vestland", "Ås": "Akershus"}
    segments = _segments_in(list(fylker), fylker)
    table = themes_by_kommune(segments, ["bolig"], by="fylke")
    assert table["kommune"].tolist() == ["Akershus", "Oslo", "Trøndelag", "Vestland", "Østfold"]
    by_coder = themes_by_coder({"anna": segments}, ["bolig"])
    assert by_coder["kommune"].tolist() == ["Aremark", "Oslo", "Ørland", "Årdal", "Ås"]
