"""Norway's municipalities (kommuner): the register, normalisation, mentions and attribution.

The register (``qualkit/data/kommuner.csv``) holds the 357 kommuner of 1 January 2024 with their official
name forms (Norwegian, Sámi, Kven); ``kommuner_tidligere.csv`` maps the names of merged or renamed kommuner
to the current ones, and ``kommuner_tidligere_nummer.csv`` the former numbers of kommuner that were only
renumbered (Bergen 1201 → 4601, Tromsø 1902 → 5401 → 5501). See ``qualkit/data/README.md`` for the sources
and how to update them.

Three things are built on it:

* :func:`normalise` turns a metadata value ("Bergen kommune", "bergen", "4601", "Os (Hordaland)") into a
  :class:`Kommune`, or raises :class:`~qualkit.errors.KommuneError` suggesting the closest names.
* :func:`find_mentions` finds the kommuner a text speaks of: with the pipeline's named entities when it has
  them, else with a conservative rule on the words (see :func:`find_mentions_in_text`).
* :func:`attribute` decides which kommune a segment is *about* (``metadata``, ``heading`` or ``mention``),
  so that reports can count "said about" separately from "said in".

:func:`sort_key` orders kommune and fylke names alphabetically the Norwegian way (… Z, Æ, Ø, Å); tables,
figures and reports sort with it.
"""

from __future__ import annotations

import csv
import difflib
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from qualkit.errors import KommuneError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from spacy.tokens import Doc

__all__ = [
    "AMBIGUOUS_WORDS",
    "ORG_LABELS",
    "PLACE_LABELS",
    "Attribution",
    "FormerName",
    "Kommune",
    "KommuneMention",
    "KommuneRegister",
    "attribute",
    "attribute_segments",
    "find_mentions",
    "find_mentions_in_text",
    "fylker_for",
    "kommune_register",
    "normalise",
    "normalise_fylke",
    "sort_key",
]

# --------------------------------------------------------------------------------------------------------
# Fylker
# --------------------------------------------------------------------------------------------------------

#: The 15 fylker of 2024 by number.
FYLKER: dict[str, str] = {
    "03": "Oslo",
    "11": "Rogaland",
    "15": "Møre og Romsdal",
    "18": "Nordland",
    "31": "Østfold",
    "32": "Akershus",
    "33": "Buskerud",
    "34": "Innlandet",
    "39": "Vestfold",
    "40": "Telemark",
    "42": "Agder",
    "46": "Vestland",
    "50": "Trøndelag",
    "55": "Troms",
    "56": "Finnmark",
}

#: Former fylker (before 2020 and 2020–2023) and their numbers, mapped to the 2024 fylker they became.
_FORMER_FYLKER: dict[str, tuple[str, ...]] = {
    "Østfold:01": ("Østfold",),
    "Akershus:02": ("Akershus",),
    "Hedmark:04": ("Innlandet",),
    "Oppland:05": ("Innlandet",),
    "Buskerud:06": ("Buskerud",),
    "Vestfold:07": ("Vestfold",),
    "Telemark:08": ("Telemark",),
    "Aust-Agder:09": ("Agder",),
    "Vest-Agder:10": ("Agder",),
    "Hordaland:12": ("Vestland",),
    "Sogn og Fjordane:14": ("Vestland",),
    "Sør-Trøndelag:16": ("Trøndelag",),
    "Nord-Trøndelag:17": ("Trøndelag",),
    "Troms:19": ("Troms",),
    "Finnmark:20": ("Finnmark",),
    "Viken:30": ("Østfold", "Akershus", "Buskerud"),
    "Vestfold og Telemark:38": ("Vestfold", "Telemark"),
    "Troms og Finnmark:54": ("Troms", "Finnmark"),
}

#: Other official forms of fylke names.
_FYLKE_FORMS: dict[str, tuple[str, ...]] = {
    "Troms": ("Romsa", "Tromssa"),
    "Finnmark": ("Finnmárku", "Finmarkku"),
    "Nordland": ("Nordlánnda",),
    "Trøndelag": ("Trööndelage",),
    "Troms og Finnmark": ("Romsa ja Finnmárku", "Tromssa ja Finmarkku"),
}

# --------------------------------------------------------------------------------------------------------
# Name keys
# --------------------------------------------------------------------------------------------------------

_DASHES = str.maketrans({"–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-"})
_FOLD = str.maketrans({"á": "a", "č": "c", "đ": "d", "ŋ": "n", "š": "s", "ŧ": "t", "ž": "z", "ï": "i",
                       "é": "e", "ä": "a", "ö": "ø"})


def _key(text: str) -> str:
    """The lookup key of a name: case, dashes, spacing and Sámi diacritics do not matter."""
    text = unicodedata.normalize("NFC", text).translate(_DASHES).casefold().translate(_FOLD)
    return re.sub(r"[\s\-_]+", " ", text).strip(" .,;:")


_ASCII = str.maketrans({"æ": "ae", "ø": "o", "å": "a"})


def _ascii_key(key: str) -> str:
    """How a key is spelt without æ, ø, å: "bærum", "baerum" → "baerum"; "tromsø", "tromso", "tromsoe" →
    "tromso"; "ålesund", "aalesund", "alesund" → "alesund"."""
    return key.translate(_ASCII).replace("aa", "a").replace("oe", "o")


def _build_fylke_index() -> dict[str, frozenset[str]]:
    index: dict[str, frozenset[str]] = {}
    for number, name in FYLKER.items():
        for form in (name, *_FYLKE_FORMS.get(name, ())):
            index[_key(form)] = frozenset({name})
        index[number] = frozenset({name})
    for spec, current in _FORMER_FYLKER.items():
        name, number = spec.split(":")
        index.setdefault(_key(name), frozenset(current))
        for form in _FYLKE_FORMS.get(name, ()):
            index.setdefault(_key(form), frozenset(current))
        index.setdefault(number, frozenset(current))
    return index


_FYLKE_INDEX = _build_fylke_index()


def fylker_for(hint: str) -> frozenset[str]:
    """The 2024 fylker meant by ``hint``: a fylke name, a former fylke ("Hordaland", "Viken") or a number.

    Raises :class:`KommuneError` for an unknown fylke.
    """
    key = _key(hint)
    key = re.sub(r"^(fylke|fylket)\s+|\s+(fylke|fylkeskommune)$", "", key)
    if key.isdigit():
        key = key.zfill(2)
    if key in _FYLKE_INDEX:
        return _FYLKE_INDEX[key]
    names = sorted({*FYLKER.values(), *(spec.split(":")[0] for spec in _FORMER_FYLKER)})
    raise KommuneError(f'unknown fylke "{hint}"{_did_you_mean(hint, {_key(n): n for n in names})}')


def normalise_fylke(value: object) -> str:
    """The 2024 name of the fylke ``value`` denotes ("vestland", "Hordaland", "46" → "Vestland"), or ``value``
    as written (stripped) when it is unknown or became several fylker ("Viken")."""
    text = str(value if value is not None else "").strip()
    try:
        fylker = fylker_for(text) if text else frozenset()
    except KommuneError:
        return text
    return next(iter(fylker)) if len(fylker) == 1 else text


def _is_fylke(text: str) -> bool:
    try:
        fylker_for(text)
    except KommuneError:
        return False
    return True


def _did_you_mean(value: str, shown_by_key: dict[str, str]) -> str:
    """' (did you mean A, B?)' for the closest keys, or '' when nothing is close."""
    close = difflib.get_close_matches(_key(value), list(shown_by_key), n=3, cutoff=0.6)
    shown = list(dict.fromkeys(shown_by_key[k] for k in close))
    return f" (did you mean {', '.join(shown)}?)" if shown else ""


# --------------------------------------------------------------------------------------------------------
# Norwegian alphabetical order
# --------------------------------------------------------------------------------------------------------

_ALPHABET = "abcdefghijklmnopqrstuvwxyzæøå"
_LETTER_RANK = {letter: chr(0x100 + rank) for rank, letter in enumerate(_ALPHABET)}
#: Letters that sort as another Norwegian letter: ä/ö as æ/ø, ü as y (as in Norwegian dictionaries), and
#: Sámi letters without a decomposition (đ, ŋ, ŧ) as their base letter. Letters with diacritics that
#: decompose (á, č, é, š, ž, ï …) sort as their base letter too; å does not decompose here: it is its own letter.
_SORT_AS = {"ä": "æ", "ö": "ø", "ü": "y", "đ": "d", "ŋ": "n", "ŧ": "t", "ł": "l", "ð": "d", "þ": "t"}
_SEPARATORS = frozenset(" \xa0\t\n-_.,;:/'’\"()–—‐‑")


def _sort_unit(char: str) -> str:
    if char in _LETTER_RANK:
        return _LETTER_RANK[char]
    if char in _SORT_AS:
        return _LETTER_RANK[_SORT_AS[char]]
    base = unicodedata.normalize("NFD", char)[0]
    if base in _LETTER_RANK and base != char:
        return _LETTER_RANK[base]
    if char in _SEPARATORS:
        return "\x01"
    if char.isdigit():
        return chr(0x10 + int(unicodedata.digit(char, 0)))
    return chr(min(0x10FFFF, 0x200 + ord(char)))


def sort_key(name: object) -> str:
    """The key that puts kommune and fylke names in Norwegian alphabetical order: a–z, then æ, ø, å; case
    does not matter; á, č, š … sort as a, c, s (Gáivuotna before Gamvik), ä and ö as æ and ø; a space or
    hyphen comes before any letter (Nord-Odal, Nordkapp, Nordre Land, Nordreisa).

    >>> sorted(["Ås", "Oslo", "Årdal", "Ørland", "Aremark"], key=sort_key)
    ['Aremark', 'Oslo', 'Ørland', 'Årdal', 'Ås']

    Use it with ``sorted(..., key=sort_key)`` or ``frame.sort_values(column, key=lambda s: s.map(sort_key))``.
    Names that differ only in case or accents keep a fixed order (the name itself breaks the tie).
    """
    text = unicodedata.normalize("NFC", str(name))
    return "".join(_sort_unit(char) for char in text.casefold()) + "\x00" + text


# --------------------------------------------------------------------------------------------------------
# The register
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kommune:
    """One kommune of the 2024 register."""

    nummer: str
    navn: str
    fylke: str
    andre_navn: tuple[str, ...] = ()

    @property
    def fylkesnummer(self) -> str:
        """The fylke's number: the first two digits of the kommunenummer."""
        return self.nummer[:2]

    @property
    def names(self) -> tuple[str, ...]:
        """All official name forms, the main form first."""
        return (self.navn, *self.andre_navn)

    @property
    def offisielt_navn(self) -> str:
        """The full official name, e.g. "Guovdageaidnu - Kautokeino"."""
        return " - ".join(self.names)

    def __str__(self) -> str:
        return self.navn


@dataclass(frozen=True)
class FormerName:
    """A name (and number) of a merged, split or renamed kommune, and the current kommune it went to."""

    navn: str
    nummer: str
    kommune: Kommune
    merknad: str = ""

    @property
    def former_fylker(self) -> frozenset[str]:
        """The 2024 fylker that the former kommune's own fylke (from its number) became."""
        return _FYLKE_INDEX.get(self.nummer[:2], frozenset()) if self.nummer else frozenset()


_DATA = resources.files("qualkit") / "data"
_KOMMUNE_WORDS = r"kommune|kommunes|kommunen|herad|heradet|herads|municipality"


class KommuneRegister:
    """The kommuner of 2024 and their former names, with lookups by number and by any name form."""

    def __init__(self, kommuner: Iterable[Kommune], former: Iterable[tuple[str, str, str, str]] = (),
                 renumbered: Iterable[tuple[str, str, str]] = ()):
        """Build the register from kommuner, ``(former name, former number, current number, note)`` rows of
        merged, split or renamed kommuner, and ``(former number, current number, note)`` rows of kommuner
        that kept their name but not their number."""
        self.kommuner: tuple[Kommune, ...] = tuple(kommuner)
        self._by_number = {k.nummer: k for k in self.kommuner}
        self._by_name: dict[str, list[Kommune]] = {}
        self._shown: dict[str, str] = {}  # key -> how to show it in a suggestion
        for kommune in self.kommuner:
            for form in (*kommune.names, kommune.offisielt_navn):
                self._add(self._by_name, _key(form), kommune)
                self._shown.setdefault(_key(form), form if form in kommune.names else kommune.navn)
        self.former: tuple[FormerName, ...] = tuple(
            FormerName(navn, nummer, self._by_number[current], note) for navn, nummer, current, note in former
        )
        self._former_by_name: dict[str, list[FormerName]] = {}
        self._former_by_number: dict[str, list[FormerName]] = {}
        for name in self.former:
            self._add(self._former_by_name, _key(name.navn), name)
            if name.nummer and name.nummer not in self._by_number:
                self._add(self._former_by_number, name.nummer, name)
            self._shown.setdefault(_key(name.navn), f"{name.navn} (now {name.kommune.navn})")
        #: Former numbers of current kommuner (``navn`` is the kommune's current name).
        self.renumbered: tuple[FormerName, ...] = tuple(
            FormerName(self._by_number[current].navn, nummer, self._by_number[current], note)
            for nummer, current, note in renumbered
        )
        for name in self.renumbered:
            if name.nummer not in self._by_number:
                self._add(self._former_by_number, name.nummer, name)
        self._keys_by_ascii: dict[str, set[str]] = {}
        for key in (*self._by_name, *self._former_by_name):
            self._keys_by_ascii.setdefault(_ascii_key(key), set()).add(key)

    @staticmethod
    def _add(index: dict, key: str, item: object) -> None:
        items = index.setdefault(key, [])
        if item not in items:
            items.append(item)

    @classmethod
    def from_csv(cls, path: str | Path | None = None, former_path: str | Path | None = None,
                 renumbered_path: str | Path | None = None) -> KommuneRegister:
        """Load the register from ``kommuner.csv``, ``kommuner_tidligere.csv`` and
        ``kommuner_tidligere_nummer.csv`` (the shipped ones by default)."""
        kommuner = [
            Kommune(row["kommunenummer"].zfill(4), row["navn"], row["fylke"],
                    tuple(n for n in (row.get("andre_navn") or "").split("|") if n))
            for row in _read_csv(path or _DATA / "kommuner.csv")
        ]
        former = [
            (row["tidligere_navn"], row["tidligere_nummer"] and row["tidligere_nummer"].zfill(4),
             row["kommunenummer"].zfill(4), row.get("merknad", ""))
            for row in _read_csv(former_path or _DATA / "kommuner_tidligere.csv")
        ]
        renumbered = [
            (row["tidligere_nummer"].zfill(4), row["kommunenummer"].zfill(4), row.get("merknad", ""))
            for row in _read_csv(renumbered_path or _DATA / "kommuner_tidligere_nummer.csv")
        ]
        return cls(kommuner, former, renumbered)

    # -- plain access --------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.kommuner)

    def __iter__(self) -> Iterator[Kommune]:
        return iter(self.kommuner)

    def __getitem__(self, nummer: str) -> Kommune:
        """The kommune with this 2024 number (raises :class:`KommuneError`)."""
        return self.by_number(nummer)

    def by_number(self, nummer: str | int) -> Kommune:
        """The kommune with this number: a 2024 number, a former number of a renumbered kommune ("1201",
        "3005", "5401") or the number of a merged kommune ("1401" Flora → Kinn)."""
        number = str(nummer).strip().zfill(4)
        if number in self._by_number:
            return self._by_number[number]
        targets = _unique(f.kommune for f in self._former_by_number.get(number, []))
        if len(targets) == 1:
            return targets[0]
        if targets:
            raise KommuneError(_split_message(number, self._former_by_number[number]))
        raise KommuneError(f'unknown kommunenummer "{nummer}"')

    def former_number(self, nummer: str | int) -> tuple[FormerName, ...]:
        """What a former kommunenummer was: the merged, renamed or renumbered kommune(s) that had it, each
        with the current kommune and a note ("1201" → Bergen, "nummer til 2019 (Hordaland); 4601 fra 2020").
        Empty for a current or unknown number."""
        return tuple(self._former_by_number.get(str(nummer).strip().zfill(4), ()))

    @property
    def fylker(self) -> tuple[str, ...]:
        """The fylker of the register, in number order."""
        return tuple(dict.fromkeys(k.fylke for k in sorted(self.kommuner, key=lambda k: k.nummer)))

    def to_frame(self) -> pd.DataFrame:
        """The register as a DataFrame (one row per kommune, columns as in ``kommuner.csv``)."""
        import pandas as pd

        return pd.DataFrame(
            [(k.nummer, k.navn, k.fylke, k.fylkesnummer, "|".join(k.andre_navn)) for k in self.kommuner],
            columns=["kommunenummer", "navn", "fylke", "fylkesnummer", "andre_navn"],
        )

    # -- names ---------------------------------------------------------------------------------------

    def candidates(self, name: str, fylker: frozenset[str] | None = None) -> tuple[Kommune, ...]:
        """The kommuner a bare name may denote, without raising.

        Current names come first: a former name is only looked at when no current kommune has the name,
        or when ``fylker`` rules the current ones out ("Os" in Vestland is Bjørnafjorden). With ``fylker``,
        only candidates in (or formerly in) those fylker are kept.
        """
        key = self._spelt(_key(name))
        current = self._by_name.get(key, [])
        former = self._former_by_name.get(key, [])
        if fylker is None:
            return tuple(current) or _unique(f.kommune for f in former)
        in_fylke = [k for k in current if k.fylke in fylker]
        return tuple(in_fylke) or _unique(
            f.kommune for f in former if f.kommune.fylke in fylker or f.former_fylker & fylker
        )

    def _spelt(self, key: str) -> str:
        """The register's key for a name written without æ, ø, å ("baerum", "tromso", "Aalesund",
        "Hoeyanger": folder names, e-mail-safe spellings), when exactly one name is spelt so; else ``key``.
        Short words are left alone: "as", "ha" and "bo" are more often words than Ås, Hå and Bø."""
        if key in self._by_name or key in self._former_by_name or not key.isascii() or len(key) < 4:
            return key
        keys = self._keys_by_ascii.get(_ascii_key(key), set())
        return next(iter(keys)) if len(keys) == 1 else key

    def is_name(self, name: str, *, former: bool = False) -> bool:
        """Whether ``name`` is a name form of a current kommune (or, with ``former``, of a former one)."""
        key = _key(name)
        return key in self._by_name or (former and key in self._former_by_name)

    def names(self) -> list[str]:
        """Every official name form of every current kommune (for rule-based matching)."""
        return [form for kommune in self.kommuner for form in kommune.names]

    def normalise(self, value: str | int, fylke: str | None = None, *, suggest: bool = True) -> Kommune:
        """The kommune meant by a metadata value.

        Accepts a number ("4601", "301", former numbers), a name in any official form and any case
        ("bergen", "Guovdageaidnu", "Kautokeino") or without æ, ø, å where that is unambiguous ("baerum",
        "tromso", "Aalesund"), with or without "kommune" ("Bergen kommune",
        "Kommunen Bergen", "Voss herad"), with a fylke in brackets or after "i" ("Herøy (Nordland)",
        "Bø i Telemark"), or a former name ("Flora" → Kinn). ``fylke`` (a 2024 or former fylke) picks
        among kommuner of the same name and is checked against the result.

        Raises :class:`KommuneError` for an unknown name (suggesting the closest ones), for a name that
        stays ambiguous (listing the candidates) and for a kommune that is not in the given fylke.
        """
        if isinstance(value, float) and value.is_integer():  # a number column read by pandas
            value = int(value)
        text = unicodedata.normalize("NFC", str(value)).strip()
        if not text:
            raise KommuneError("empty kommune")
        name, number, embedded = _parse(text)
        fylker = _intersect(fylke, embedded, text)
        by_number = self.by_number(number) if number else None
        if by_number and not name:
            return _check_fylke(by_number, fylker, text)
        kommune = self._resolve_name(name, fylker, text, suggest)
        if by_number and by_number != kommune:
            raise KommuneError(f'kommune "{text}": {number} is {by_number.navn}, not {kommune.navn}')
        return kommune

    def get(self, value: str | int, fylke: str | None = None) -> Kommune | None:
        """Like :meth:`normalise`, but ``None`` instead of an error (and no suggestions are computed)."""
        try:
            return self.normalise(value, fylke, suggest=False)
        except KommuneError:
            return None

    def _resolve_name(self, name: str, fylker: frozenset[str] | None, shown: str, suggest: bool = True) -> Kommune:
        """The one kommune ``name`` denotes within ``fylker``, or a :class:`KommuneError` saying why not."""
        found = self.candidates(name, fylker)
        if len(found) == 1:
            return found[0]
        current = self._by_name.get(_key(name), [])
        if found and found[0] not in current:  # a former kommune split between several
            raise KommuneError(_split_message(shown, self._former_by_name.get(_key(name), [])))
        if found:
            listed = ", ".join(f"{k.navn} ({k.fylke}, {k.nummer})" for k in found)
            example = f"{found[-1].navn} ({found[-1].fylke})"
            raise KommuneError(f'kommune "{shown}" is ambiguous: {listed}; give the fylke, e.g. "{example}"')
        everywhere = self.candidates(name)
        if fylker is not None and everywhere:
            listed = ", ".join(f"{k.navn} ({k.fylke})" for k in everywhere)
            raise KommuneError(f'kommune "{shown}" is not in {" / ".join(sorted(fylker))}: {listed}')
        raise KommuneError(f'unknown kommune "{shown}"{_did_you_mean(name, self._shown) if suggest else ""}')


def _read_csv(path: object) -> list[dict[str, str]]:
    with Path(str(path)).open(encoding="utf-8", newline="") as handle:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]


def _unique(kommuner: Iterable[Kommune]) -> tuple[Kommune, ...]:
    return tuple(dict.fromkeys(kommuner))


def _split_message(shown: str, former: Sequence[FormerName]) -> str:
    targets = ", ".join(f"{k.navn} ({k.nummer})" for k in _unique(f.kommune for f in former))
    note = next((f.merknad for f in former if f.merknad), "")
    return (f'former kommune "{shown}" went to several current kommuner: {targets}'
            + (f" ({note})" if note else "") + "; give the current kommune")


def _parse(text: str) -> tuple[str, str | None, str | None]:
    """Split a metadata value into (name, number, fylke hint)."""
    hint = None
    bracket = re.fullmatch(r"(.*?)\s*\(([^()]*)\)", text)
    if bracket and bracket.group(1):
        text, inner = bracket.group(1), bracket.group(2).strip()
        if re.fullmatch(r"\d{3,4}", inner):
            text = f"{inner} {text}"
        elif not re.fullmatch(_KOMMUNE_WORDS, inner, re.I):
            hint = inner
    located = re.fullmatch(r"(.+?)(?:\s+i\s+|\s*,\s*)(.+)", text)
    if located and _is_fylke(located.group(2)):
        text, hint = located.group(1), hint or located.group(2)
    text = re.sub(rf"^(?:{_KOMMUNE_WORDS})\s+|\s+(?:{_KOMMUNE_WORDS})$", "", text.strip(), flags=re.I)
    number = re.fullmatch(r"(\d{1,4})(?:\s*[-–:]?\s*(.*))?", text)
    if number:
        return (number.group(2) or "").strip(), number.group(1).zfill(4), hint
    return text.strip(), None, hint


def _intersect(fylke: str | None, embedded: str | None, shown: str) -> frozenset[str] | None:
    """The fylker allowed by the ``fylke`` argument and the fylke written in the value itself."""
    sets = [fylker_for(h) for h in (fylke, embedded) if h]
    if not sets:
        return None
    allowed = frozenset.intersection(*sets)
    if not allowed:
        raise KommuneError(f'kommune "{shown}": fylke "{fylke}" contradicts "{embedded}"')
    return allowed


def _check_fylke(kommune: Kommune, fylker: frozenset[str] | None, shown: str) -> Kommune:
    if fylker is not None and kommune.fylke not in fylker:
        raise KommuneError(f'kommune "{shown}" is {kommune.navn} in {kommune.fylke}, not in '
                           f'{" / ".join(sorted(fylker))}')
    return kommune


@lru_cache(maxsize=1)
def kommune_register() -> KommuneRegister:
    """The shipped register (loaded once)."""
    return KommuneRegister.from_csv()


def normalise(value: str | int, fylke: str | None = None) -> Kommune:
    """:meth:`KommuneRegister.normalise` on the shipped register."""
    return kommune_register().normalise(value, fylke)


# --------------------------------------------------------------------------------------------------------
# Mentions
# --------------------------------------------------------------------------------------------------------

#: Entity labels that denote places (NorNE: GPE_LOC, GPE_ORG, LOC; other schemes: GPE).
PLACE_LABELS = frozenset({"GPE_LOC", "GPE_ORG", "GPE", "LOC"})
#: Entity labels whose text may be "<kommune> kommune".
ORG_LABELS = frozenset({"ORG"})

#: Kommune names that are also common Norwegian words or first names. Without NER they count only in
#: context: after a preposition ("i Sola", "fra Time") or before "kommune"/"herad" ("Sola kommune").
AMBIGUOUS_WORDS = frozenset({
    "Alver", "Aure", "Bø", "Fjord", "Flå", "Gran", "Grane", "Grue", "Heim", "Hol", "Hole", "Hå", "Kinn",
    "Leka", "Lier", "Lierne", "Lom", "Loppa", "Lund", "Lyngen", "Marker", "Moss", "Nes", "Os", "Osen",
    "Røst", "Råde", "Sande", "Sel", "Sola", "Stad", "Stange", "Strand", "Stranda", "Sula", "Time", "Tinn",
    "Vang", "Vega", "Vik", "Ål", "Ås", "Øyer",
})

_BEFORE_CONTEXT = re.compile(r"(?:^|[^\w])(?:i|på|fra|frå|til|mot|ved|rundt|utenfor|utanfor|nær|kring|"
                             r"innen|innan)\s+$", re.I)
_AFTER_CONTEXT = re.compile(rf"^\s+(?:{_KOMMUNE_WORDS})\b", re.I)
#: Words before a place name that make it part of an institution's name ("Helse Bergen").
_ORG_BEFORE = re.compile(r"(?:Helse|Universitetet\s+(?:i|på)|Høgskolen\s+i|Høgskulen\s+(?:i|på)|"
                         r"Sykehuset(?:\s+i)?|Sjukehuset(?:\s+i)?|Statsforvalteren\s+i|Fylkesmannen\s+i|"
                         r"Politiet\s+i|Sparebanken|Kirkens\s+Bymisjon\s+i|OsloMet|NAV)\s+$")
#: Words after a place name that make it part of an institution's name ("Bergen fengsel").
_ORG_AFTER = re.compile(r"^\s+(?:fengsel|tingrett|lagmannsrett|lufthavn|universitetssykehus|sykehus|"
                        r"sjukehus|domkirke|turlag|kino|idrettslag|sportsklubb|sparebank|FK|IL|IF)\b"
                        r"|^[ \t]+(?!(?:Kommune|Kommunes|Herad)\b)[A-ZÆØÅ][a-zæøå]+")


@dataclass(frozen=True)
class KommuneMention:
    """A place in a text that names a kommune.

    ``kommune`` is ``None`` when the name stays ambiguous (Herøy, Våler) even after preferring the given
    fylke; ``candidates`` then lists them.
    """

    text: str
    start_char: int
    end_char: int
    kommune: Kommune | None
    candidates: tuple[Kommune, ...]
    source: str  # "entity" or "rule"
    label: str = ""


def _resolve_mention(register: KommuneRegister, name: str, fylker: frozenset[str] | None) -> tuple[Kommune, ...]:
    """The kommuner ``name`` may denote in running text.

    Kommuner (current or, by a former name, merged) in ``fylker`` are preferred when that decides it:
    "Os" in a text from Vestland is Bjørnafjorden, "Herøy" in one from Nordland is Herøy in Nordland.
    """
    if fylker is not None:
        preferred = register.candidates(name, fylker)
        if len(preferred) == 1:
            return preferred
    return register.candidates(name)


def _entity_name(text: str, label: str, register: KommuneRegister) -> str | None:
    """The kommune name an entity's text stands for, or ``None``.

    A place entity counts when its text is a name, "<name> kommune(s)/herad", or the genitive
    "<name>s" ("Bergens"); an ORG entity only as "<name> kommune(s)/herad" ("Helse Bergen" does not count).
    """
    if label not in PLACE_LABELS | ORG_LABELS:
        return None
    text = " ".join(text.split()).strip(" .,;:!?«»\"'")
    with_word = re.fullmatch(rf"(.+?)\s+(?:{_KOMMUNE_WORDS})", text, re.I)
    if with_word and register.is_name(with_word.group(1), former=True):
        return with_word.group(1)
    if label not in PLACE_LABELS:
        return None
    if register.is_name(text, former=label != "LOC"):
        return text
    if text.endswith("s") and register.is_name(text[:-1]) and not text[:-1].endswith(("s", "x", "z")):
        return text[:-1]
    return None


def find_mentions(doc: Doc, *, fylke: str | None = None, use_ner: bool | None = None,
                  register: KommuneRegister | None = None) -> list[KommuneMention]:
    """The kommuner mentioned in a spaCy ``Doc``.

    With named entities (``doc.ents`` set by an NER component, or by hand), a mention is an entity that
    names a kommune (see :func:`_entity_name`); names inside other words ("Molden", "Bergensklinikkene")
    and institutions ("Helse Bergen", "Universitetet i Oslo") are not. Without entities (a blank pipeline)
    the conservative rule of :func:`find_mentions_in_text` is used. ``fylke`` (e.g. the document
    kommune's fylke) picks among kommuner of the same name; ``use_ner`` forces one path.
    """
    register = register or kommune_register()
    if use_ner is None:
        use_ner = doc.has_annotation("ENT_IOB")
    if not use_ner:
        return find_mentions_in_text(doc.text, fylke=fylke, register=register)
    fylker = fylker_for(fylke) if fylke else None
    mentions = []
    for ent in doc.ents:
        name = _entity_name(ent.text, ent.label_, register)
        if name is None:
            continue
        found = _resolve_mention(register, name, fylker)
        if found:
            kommune = found[0] if len(found) == 1 else None
            mentions.append(KommuneMention(ent.text, ent.start_char, ent.end_char, kommune, found, "entity",
                                           ent.label_))
    return mentions


@lru_cache(maxsize=4)
def _name_pattern(register: KommuneRegister) -> re.Pattern[str]:
    names = sorted(set(register.names()), key=len, reverse=True)
    alternatives = "|".join(re.escape(n).replace(r"\ ", r"\s+") for n in names)
    return re.compile(rf"(?<![\w\-])(?:{alternatives})(?![\w\-])")


def find_mentions_in_text(text: str, *, fylke: str | None = None,
                          register: KommuneRegister | None = None) -> list[KommuneMention]:
    """The kommuner mentioned in plain text, by a conservative rule (no NER).

    A mention is a current official name form written as a whole word with its capital letter
    ("Bergen", "Nord-Odal", "Guovdageaidnu"); not inside another word ("Molden", "Bergensklinikkene"),
    not a genitive ("Askers" may be a surname), not part of an institution's name ("Helse Bergen",
    "Universitetet i Oslo", "Bergen fengsel"). Names in :data:`AMBIGUOUS_WORDS` ("Sola" is also the sun)
    need context: a preposition before ("i Sola") or "kommune"/"herad" after ("Sola kommune").
    Former names ("Flora") are not looked for.
    """
    register = register or kommune_register()
    return _rule_mentions(text, fylker_for(fylke) if fylke else None, register)


def _rule_mentions(text: str, fylker: frozenset[str] | None, register: KommuneRegister, *,
                   need_context: bool = True) -> list[KommuneMention]:
    """:func:`find_mentions_in_text`; without ``need_context``, names in :data:`AMBIGUOUS_WORDS` count
    without a preposition or "kommune" next to them."""
    mentions = []
    for match in _name_pattern(register).finditer(text):
        name = " ".join(match.group().split())
        before, after = text[: match.start()], text[match.end():]
        if _ORG_BEFORE.search(before) or _ORG_AFTER.match(after):
            continue
        if (need_context and name in AMBIGUOUS_WORDS
                and not (_BEFORE_CONTEXT.search(before) or _AFTER_CONTEXT.match(after))):
            continue
        found = _resolve_mention(register, name, fylker)
        if found:
            kommune = found[0] if len(found) == 1 else None
            mentions.append(KommuneMention(match.group(), match.start(), match.end(), kommune, found, "rule"))
    return mentions


# --------------------------------------------------------------------------------------------------------
# Attribution
# --------------------------------------------------------------------------------------------------------


class Attribution(NamedTuple):
    """The kommune a segment is about, and why: ``metadata``, ``heading``, ``mention`` (or ``none``)."""

    kommune: Kommune | None
    reason: str


def _mentioned(segment: Doc | str, fylke: str | None, register: KommuneRegister) -> list[Kommune]:
    if isinstance(segment, str):
        mentions = find_mentions_in_text(segment, fylke=fylke, register=register)
    else:
        mentions = find_mentions(segment, fylke=fylke, register=register)
    return list(_unique(m.kommune for m in mentions if m.kommune is not None))


@lru_cache(maxsize=4096)
def _heading_kommune(heading: str, fylke: str | None, register: KommuneRegister) -> tuple[Kommune, ...]:
    """The kommuner a heading names: the whole heading as a kommune ("Sola"), else its mentions."""
    whole = register.get(heading, fylke) or register.get(heading)
    return (whole,) if whole else tuple(_mentioned(heading, fylke, register))


def attribute(segment: Doc | str, document_kommune: Kommune | str | None,
              heading_path: Sequence[str] | str | None = (), *,
              register: KommuneRegister | None = None) -> Attribution:
    """Which kommune a segment is about, and why.

    1. ``metadata``: by default the document's kommune.
    2. ``heading``: the deepest heading above the segment that names a kommune decides, if it names
       exactly one and that one differs from the document's (a heading naming several leaves the
       document's kommune).
    3. ``mention``: the segment itself mentions exactly one kommune other than the one from 1–2, and does
       not also mention that one (a segment naming several kommuner, or its own and another, is a
       comparison: it keeps the kommune from 1–2). Whether it names that one is also checked with the word
       rule of :func:`find_mentions_in_text`, here without the context that names which are also words
       need ("som Sola ikke deltar i"): the NER may miss such a name or tag it as an organisation, and
       finding it can only keep the kommune from 1–2.

    Ambiguous mentions (Herøy, Våler) are resolved with the document kommune's fylke or ignored.
    Returns ``(None, "none")`` when nothing names a kommune.
    """
    register = register or kommune_register()
    base = register.normalise(document_kommune) if isinstance(document_kommune, str) else document_kommune
    reason = "metadata" if base is not None else "none"
    fylke = base.fylke if base is not None else None
    headings = [heading_path] if isinstance(heading_path, str) else list(heading_path or ())
    for heading in reversed(headings):
        named = _heading_kommune(heading, fylke, register) if heading and heading.strip() else []
        if named:
            if len(named) == 1 and named[0] != base:
                base, reason = named[0], "heading"
            break
    mentioned = _mentioned(segment, fylke, register)
    others = [k for k in mentioned if k != base]
    if len(others) == 1 and base not in mentioned and not _names_own(segment, base, fylke, register):
        return Attribution(others[0], "mention")
    return Attribution(base, reason)


def _names_own(segment: Doc | str, kommune: Kommune | None, fylke: str | None, register: KommuneRegister) -> bool:
    """Whether the word rule finds ``kommune`` (the segment's own) in the segment's text, also where a name
    that is a word has no preposition or "kommune" next to it ("som Sola ikke deltar i"): in a segment from
    Sola a capitalised "Sola" is most likely the kommune, and the worst a wrong guess does is keep the
    segment's own kommune."""
    if kommune is None:
        return False
    text = segment if isinstance(segment, str) else segment.text
    fylker = fylker_for(fylke) if fylke else None
    return any(m.kommune == kommune for m in _rule_mentions(text, fylker, register, need_context=False))


def _as_headings(value: object) -> list[str]:
    if value is None or (isinstance(value, float) and value != value):  # None or NaN
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]  # type: ignore[union-attr]


def attribute_segments(segments: pd.DataFrame, docs: Iterable[Doc] | None = None, *, text_column: str = "text",
                       kommune_column: str = "kommune", heading_column: str = "heading_path",
                       register: KommuneRegister | None = None) -> pd.DataFrame:
    """A copy of a segment table with ``attributed_kommune`` (name), ``attributed_kommunenummer`` and
    ``attribution`` (reason) added.

    ``docs`` are the segments' spaCy docs in row order (their entities are used); without them the text
    column is read with the rule of :func:`find_mentions_in_text`. The kommune column may hold names or
    numbers in any form :func:`normalise` accepts; the heading column (optional) a list of headings,
    outermost first, or one heading.
    """
    import pandas as pd

    register = register or kommune_register()
    sources: Iterable[Doc | str] = docs if docs is not None else segments[text_column].fillna("").astype(str)
    headings = segments[heading_column] if heading_column in segments else [None] * len(segments)
    kommuner = segments[kommune_column] if kommune_column in segments else [None] * len(segments)
    results = []
    for source, document_kommune, heading in zip(sources, kommuner, headings, strict=True):
        document = None if pd.isna(document_kommune) else register.normalise(document_kommune)
        results.append(attribute(source, document, _as_headings(heading), register=register))
    out = segments.copy()
    out["attributed_kommune"] = [r.kommune.navn if r.kommune else None for r in results]
    out["attributed_kommunenummer"] = [r.kommune.nummer if r.kommune else None for r in results]
    out["attribution"] = [r.reason for r in results]
    return out
