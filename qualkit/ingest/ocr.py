"""Optional Norwegian OCR repair (off by default): restore æ/ø/å in words OCR reliably damages.

Only forms that are *not* themselves Norwegian words are repaired ("pa" → "på", "ekonomi" → "økonomi",
"bostedsleshet" → "bostedsløshet"). Real-word collisions ("meter" for "møter", "bade" for "både", "mal" for
"mål") are left alone: they need a context model. "&" becomes "å" only between two lower-case words, so
citations ("Fløtten & Grødem") keep their ampersand. Every change is reported as an :class:`OcrChange`.
"""

from __future__ import annotations

import re

from qualkit.ingest.document import OcrChange

# whole words (lower case; capitalised forms are repaired with the capital kept)
_WORDS = {
    "pa": "på", "pé": "på", "pd": "på", "ma": "må", "fa": "få", "sma": "små", "niva": "nivå",
    "sérbar": "sårbar", "sarbar": "sårbar", "sérbare": "sårbare", "sarbare": "sårbare",
    "levekar": "levekår", "arsskiftet": "årsskiftet", "aret": "året",
    "stjerdal": "Stjørdal", "alesund": "Ålesund", "tromse": "Tromsø", "roros": "Røros",
    "berum": "Bærum", "baerum": "Bærum", "beerum": "Bærum", "varnes": "Værnes",
    "trendelag": "Trøndelag", "treondelag": "Trøndelag", "trondelag": "Trøndelag",
    "ser-trendelag": "Sør-Trøndelag", "ser-treondelag": "Sør-Trøndelag", "moare": "Møre",
    "nord-trendelag": "Nord-Trøndelag",
    "uferetrygd": "uføretrygd", "startlén": "startlån", "sosialstenad": "sosialstønad",
    "rddmannen": "rådmannen", "byrékratisering": "byråkratisering",
    "spersmal": "spørsmål", "sterre": "større", "storre": "større",
    "akterene": "aktørene", "akterer": "aktører", "aktorer": "aktører", "aktorene": "aktørene",
    "metene": "møtene", "oppmete": "oppmøte", "folge": "følge", "felge": "følge",
    "veere": "være", "vaere": "være", "veare": "være", "vert": None,
    "ensket": "ønsket", "onsket": "ønsket", "gnsket": "ønsket", "ensker": "ønsker", "onsker": "ønsker",
    "lgslates": "løslates", "leslates": "løslates",
}
_WORDS = {k: v for k, v in _WORDS.items() if v}
# word stems: the rest of the word is kept ("ekonomisk" → "økonomisk")
_STEMS = [
    (re.compile(r"\b([eEgGoOsS])(konomi\w*)"), lambda m: ("Ø" if m.group(1).isupper() else "ø") + m.group(2)),
    (re.compile(r"\b(bostedsl)[eo](s\w*)", re.I), lambda m: m.group(1) + "ø" + m.group(2)),
    (re.compile(r"\b([Ll])(?:ee|ae|ea)(ring\w*)"), lambda m: m.group(1) + "æ" + m.group(2)),
    (re.compile(r"\b(nekkel)(\w*)", re.I), lambda m: ("N" if m.group(1)[0].isupper() else "n") + "økkel" + m.group(2)),
    (re.compile(r"\b(gjennomf)[eo](r\w*)", re.I), lambda m: m.group(1) + "ø" + m.group(2)),
]
_WORD = re.compile(r"(?<![\w-])(" + "|".join(sorted(map(re.escape, _WORDS), key=len, reverse=True)) + r")(?![\w-])",
                   re.I)
_AMPERSAND = re.compile(r"(?<=[a-zæøå,] )&(?= [a-zæøå])")


def repair_ocr(text: str) -> tuple[str, list[OcrChange]]:
    """Return the repaired text and the changes, each at its offset in the *repaired* text."""
    edits: list[tuple[int, int, str]] = []  # (start, end, new) in the input text
    for match in _WORD.finditer(text):
        old = match.group(1)
        new = _WORDS[old.lower()]
        if old[0].isupper() and new[0].islower():
            new = new[0].upper() + new[1:]
        edits.append((match.start(1), match.end(1), new))
    for pattern, replace in _STEMS:
        for match in pattern.finditer(text):
            new = replace(match)
            if new != match.group(0):
                edits.append((match.start(), match.end(), new))
    edits += [(m.start(), m.end(), "å") for m in _AMPERSAND.finditer(text)]
    edits.sort()
    pieces: list[str] = []
    changes: list[OcrChange] = []
    position = shift = 0
    line = 1
    for start, end, new in edits:
        if start < position:  # overlapping edit: the first one wins
            continue
        line += text.count("\n", position, start)
        pieces.append(text[position:start])
        pieces.append(new)
        changes.append(OcrChange(start + shift, text[start:end], new, line))
        shift += len(new) - (end - start)
        position = end
    pieces.append(text[position:])
    return "".join(pieces), changes
