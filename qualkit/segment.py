"""Segmentation: cut documents into coding units that keep exact codepoint offsets into the document text.

Units:
- ``turn``: a speaker turn of a transcript (from one speaker label to the next); in documents without speaker
  labels a turn is a paragraph.
- ``paragraph``: a block of lines between blank lines; every bullet item is a unit of its own.
- ``sentence``: sentences of each paragraph, from the Norwegian pipeline.
- ``window``: ``window`` consecutive sentences of a paragraph (see :func:`segment_documents`).

Headings are never units; they make up each unit's heading path. The label (``D1:``, ``**Moderator:**``,
``[00:12:31] I:``, ``Moderator –``, ``MODERATOR`` on a line of its own), timestamps and bullet markers are left
out of the unit, so that ``text[start:end]`` is the content; a line opening with a timestamp starts a new unit.

The ranges the ingest normalisers exclude (``Document.excluded``: tables of contents, page numbers, footnote
bodies, reference and participant lists) are read as blank lines: no unit contains them. With the
``page_joins`` normaliser a paragraph cut by a page break (only blank lines between, the first part without
final punctuation, the second starting in lower case) is one unit whose text contains the blank lines.

With ``attribute=True`` the table gets ``attributed_kommune`` and ``attribution`` (metadata | heading |
mention | none): which kommune each segment is *about* (see :func:`qualkit.kommune.attribute`).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from qualkit.ingest import Document
from qualkit.ingest.normalise import DEFAULT_NORMALISERS, find_excluded

UNITS = ("turn", "paragraph", "sentence", "window")
SEGMENT_COLUMNS = ["document", "kommune", "segment_id", "start", "end", "speaker", "text"]
EXTRA_COLUMNS = ["unit", "index", "role", "heading", "kilde", "fylke", "dato"]
ATTRIBUTION_COLUMNS = ["attributed_kommune", "attribution"]
TRANSCRIPT_SOURCES = {"fokusgruppe", "intervju", "samtale", "gruppeintervju", "transcript"}
SUBTITLE_SUFFIXES = {".vtt", ".srt"}

_TIMESTAMP = r"(?:\[\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?\]|\(\d{1,2}:\d{2}(?::\d{2})?\)|\d{1,2}:\d{2}:\d{2})"
_ROLES = (r"moderator|intervjuer|intervjuar|informant|respondent|deltaker|deltakar|deltager|ordstyrer|fasilitator"
          r"|forsker|forskar|spørsmål|svar|tolk")
"""Role words that are speaker labels wherever they stand, also in lower case (``intervjuer:``)."""
_LABEL = re.compile(
    rf"^[ \t]*(?:(?P<stamp>{_TIMESTAMP})[ \t]*(?:[-–][ \t]*)?)?"
    r"(?:\*\*(?P<bold>[^*\n:]{1,40}?)(?::\*\*|\*\*:)"
    r"|\[(?P<bracket>[^\]\n]{1,40})\]:"
    rf"|(?P<plain>[A-ZÆØÅ0-9][\wÆØÅæøå .'’/()\-]{{0,39}}?|(?:{_ROLES})(?:[ \t]?\d{{1,3}})?):)"
    r"[ \t]+(?=\S)"
)
_DASH_LABEL = re.compile(
    rf"^[ \t]*(?:(?P<stamp>{_TIMESTAMP})[ \t]*)?(?P<name>[^\W\d_][\wÆØÅæøå .'’/()]{{0,39}}?)[ \t]+[-–—][ \t]+(?=\S)"
)
"""``Moderator – Velkommen.``: a label followed by a dash (only roles and codes, see :data:`_STRONG_LABEL`)."""
_ALONE_LABEL = re.compile(
    rf"^[ \t]*(?:(?P<stamp>{_TIMESTAMP})[ \t]*)?(?P<bold>\*\*)?(?P<name>[^\W_][\wÆØÅæøå .'’/()\-]{{0,39}}?)"
    r"[ \t]*(?P<colon>:)?(?:\*\*)?(?P<colon_after>:)?[ \t]*$"
)
"""``MODERATOR`` or ``Moderator:`` on a line of its own, the words on the next line (see :func:`_classify_lines`)."""
_TIMESTAMP_ONLY = re.compile(rf"^[ \t]*{_TIMESTAMP}[ \t]+(?=\S)")
_STAMP_LINE = re.compile(rf"^[ \t]*{_TIMESTAMP}[ \t]*$")
_HEADING = re.compile(r"^[ \t]{0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
_BULLET = re.compile(r"^[ \t]*(?:[-*•–➔]|\d{1,2}[.)])[ \t]+(?=\S)")
_TERMINAL = (".", "!", "?", ":", ";", "»", "”", '"', ")", "…")


@dataclass
class Line:
    start: int
    end: int  # end of the line's content, without the newline
    kind: str  # blank | excluded | heading | bullet | text | speaker (a label of its own) | stamp (a lone time)
    content_start: int  # offset where the content starts (after bullet marker or label)
    label: str = ""
    heading: str = ""
    level: int = 0
    stamped: bool = False  # the line opens with a timestamp: a new utterance


@dataclass
class Block:
    """A paragraph or bullet item: a run of lines that forms one paragraph unit."""

    start: int
    end: int
    heading_path: tuple[str, ...]
    label: str = ""  # a speaker label opens this block
    speaker: str = ""  # the speaker the block belongs to (label carried over)
    after_excluded: bool = False  # an excluded range lies between this block and the previous one
    stamped: bool = False  # opened by a timestamp: never part of the previous turn
    lines: list[Line] = field(default_factory=list)


def segment_documents(
    documents: Iterable[Document],
    unit: str = "turn",
    nlp=None,
    window: int = 3,
    progress=None,
    attribute: bool = False,
    attribution_nlp=None,
) -> pd.DataFrame:
    """Segment documents into the segment table (one row per unit, offsets into ``document.text``).

    ``nlp`` is only needed for sentence and window units (default: :func:`qualkit.nlp.load`).
    ``progress`` is an optional callable called once per document (for progress bars).
    ``attribute=True`` adds ``attributed_kommune`` and ``attribution`` after ``dato``; mentions are found in
    one ``nlp.pipe`` pass over the segment texts with ``attribution_nlp`` (default: ``nlp``, else
    :func:`qualkit.nlp.load`); a pipeline without named entities falls back to the word rule of
    :func:`qualkit.kommune.find_mentions_in_text`.
    """
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}, not {unit!r}")
    columns = SEGMENT_COLUMNS + EXTRA_COLUMNS + (ATTRIBUTION_COLUMNS if attribute else [])
    frames = []
    for document in documents:
        spans = document_units(document, unit=unit, nlp=nlp, window=window)
        frames.append(_rows(document, unit, spans))
        if progress is not None:
            progress(document)
    if not frames:
        return pd.DataFrame(columns=columns)
    table = pd.concat(frames, ignore_index=True)
    if attribute:
        table = _attribute(table, attribution_nlp or nlp)
    return table[columns]


def document_units(document: Document, unit: str = "turn", nlp=None, window: int = 3) -> list[dict]:
    """The units of one document as dicts with ``start``, ``end``, ``speaker``, ``heading``."""
    blocks = parse_blocks(document)
    if unit == "paragraph":
        return [_unit(b.start, b.end, b.speaker, b.heading_path) for b in blocks]
    if unit == "turn":
        return _turns(blocks, document.text)
    if nlp is None:
        from qualkit.nlp import load

        nlp = load()
    sentences = _sentences(blocks, document.text, nlp)
    if unit == "sentence":
        return sentences
    return _windows(sentences, window)


def excluded_ranges(document: Document) -> list[tuple[int, int]]:
    """The ranges no unit may contain: ``document.excluded``, or for a document the ingest normalisers never
    ran on (built by hand, or loaded from a project), the default normalisers' ranges."""
    if document.normalisers is None:
        return [(e.start, e.end) for e in find_excluded(document.text, DEFAULT_NORMALISERS)]
    return [(e.start, e.end) for e in document.excluded]


def _page_joins(document: Document) -> bool:
    return "page_joins" in (DEFAULT_NORMALISERS if document.normalisers is None else document.normalisers)


def parse_blocks(document: Document) -> list[Block]:
    """Split the text into paragraph blocks (bullet items separate), tracking headings and speakers."""
    text = document.text
    transcript = is_transcript(document)
    subtitles = _is_subtitles(document)
    is_speaker = _speaker_rule(text, set(document.speakers), subtitles) if transcript else None
    listed = {label.casefold(): label for label in document.speakers}  # MODERATOR is the listed Moderator
    lines = list(_classify_lines(text, is_speaker, excluded_ranges(document)))
    if not transcript and not any(line.kind == "heading" for line in lines):
        lines = _plain_headings(lines, text)
    joins = _page_joins(document)
    blocks: list[Block] = []
    headings: list[tuple[int, str]] = []
    speaker = ""
    current: Block | None = None
    barrier = False  # a heading or an excluded range since the last block: no page join across it
    excluded_since = False
    pending: Line | None = None  # a label or a time on a line of its own, for the next line
    for line in lines:
        if line.kind in ("speaker", "stamp"):
            current, pending, barrier = None, line, True
            continue
        if pending is not None and line.kind != "blank":
            if line.kind in ("text", "bullet") and not line.label:
                line = replace(line, label=pending.label, stamped=line.stamped or pending.stamped)
            pending = None  # headings and excluded ranges start a new turn anyway
        if line.kind in ("blank", "excluded"):
            current = None
            barrier = barrier or line.kind == "excluded"
            excluded_since = excluded_since or line.kind == "excluded"
            continue
        if line.kind == "heading":
            current = None
            barrier = True
            headings = [h for h in headings if h[0] < line.level] + [(line.level, line.heading)]
            continue
        path = tuple(h for _, h in headings)
        if current is None and joins and not barrier and _continues(blocks, line, path, text):
            current = blocks[-1]
        starts_new = current is None or line.kind == "bullet" or bool(line.label) or line.stamped
        barrier = False
        if starts_new:
            if line.label:
                speaker = listed.get(line.label.casefold(), line.label)
            elif line.stamped and subtitles:
                speaker = ""  # a cue without a voice or label: its speaker is not known
            current = Block(line.content_start, line.end, path, label=speaker if line.label else "", speaker=speaker,
                            after_excluded=excluded_since, stamped=line.stamped)
            current.lines.append(line)
            blocks.append(current)
        else:
            current.end = line.end
            current.lines.append(line)
        excluded_since = False
    for block in blocks:
        block.end = _rstrip(text, block.start, block.end)
    return [b for b in blocks if b.end > b.start]


def _continues(blocks: list[Block], line: Line, path: tuple[str, ...], text: str) -> bool:
    """A page break cut a sentence: the last block ends without final punctuation, this line goes on in
    lower case (not a bullet, not a new speaker), under the same headings."""
    if not blocks or line.kind != "text" or line.label or line.stamped or blocks[-1].heading_path != path:
        return False
    previous = text[blocks[-1].start : _rstrip(text, blocks[-1].start, blocks[-1].end)]
    first = text[line.content_start : line.content_start + 1]
    last_word = previous.rsplit(None, 1)[-1] if previous.strip() else ""
    if "/" in last_word or "@" in last_word:  # a link or an address, not a sentence cut short
        return False
    return bool(previous) and not previous.endswith(_TERMINAL) and first.isalpha() and first.islower()


def is_transcript(document: Document) -> bool:
    """A document is read as a transcript when metadata says so, when it comes from a subtitle file (vtt, srt:
    a recording's cues, speaker-labelled or not) or when speaker labels recur: two labels twice each (four
    lines in all), or roles and codes (:data:`_STRONG_LABEL`, in any style) and timestamped labels on three
    lines, two different, one of them twice ("[00:12:31] D2:", "Moderator:", "D2:"). Three different roles and
    codes suffice when they are not all numbered items of one kind (``Moderator:``, ``D1:``, ``D2:`` each once
    is a transcript; ``Spørsmål 1:``, ``Spørsmål 2:``, ``Spørsmål 3:`` in an interview guide is not)."""
    kilde = document.kilde.strip().lower()
    if kilde in TRANSCRIPT_SOURCES or document.speakers:
        return True
    if _is_subtitles(document):
        return True
    if kilde:
        return False
    labels: Counter[str] = Counter()  # labels in the Name: styles
    strong: Counter[str] = Counter()  # roles and codes in any style, and timestamped Name: labels
    raws = document.text.split("\n")
    for number, raw in enumerate(raws):
        following = raws[number + 1] if number + 1 < len(raws) else None
        candidates = _label_candidates(raw, following)
        labels.update(name for name, style, _, _ in candidates[:1] if style in ("plain", "marked")
                      or (style.startswith("alone_") and not _not_a_speaker(name)))
        for name, style, stamped, _ in candidates:
            if _plausible_label(name) and not _not_a_speaker(name) and (
                    _STRONG_LABEL.fullmatch(name) or (stamped and style in ("plain", "marked"))):
                strong[name] += 1
                break
    recurring = [label for label, n in labels.items() if n >= 2 and _plausible_label(label)]
    if len(recurring) >= 2 and sum(labels[label] for label in recurring) >= 4:
        return True
    if len(strong) >= 2 and sum(strong.values()) >= 3 and max(strong.values()) >= 2:
        return True
    # each speaker once (a short excerpt, a round of answers): three roles and codes, not all numbered alike
    return len(strong) >= 3 and len({_label_stem(name) for name in strong}) >= 2


def _label_stem(name: str) -> str:
    """A label without its number and note: ``Deltaker 2 (NAV)`` → ``deltaker``, ``D1`` → ``d``. Numbered items
    of one kind ("Spørsmål 1:", "Spørsmål 2:", "Q3:") share a stem; a moderator and participants do not."""
    return re.sub(r"[ \t]*(?:\([^()]*\))?$", "", re.sub(r"[ \t]?\d{1,3}(?=[ \t]*(?:\(|$))", "", name)).casefold()


def _is_subtitles(document: Document) -> bool:
    return Path(document.source or document.name).suffix.lower() in SUBTITLE_SUFFIXES


def _label_candidates(raw: str, following: str | None) -> list[tuple[str, str, bool, int]]:
    """The ways ``raw`` could open with a speaker label, as ``(name, style, stamped, content offset)``.

    Styles: ``marked`` (``**Kari:**``, ``[NAV]:``), ``plain`` (``Kari:``, ``intervjuer:``), ``dash``
    (``Moderator – ...``), ``alone`` / ``alone_colon`` / ``alone_marked`` (``MODERATOR`` / ``Moderator:`` /
    ``**Kari:**`` on a line of its own, with ``following`` a line of text right below it)."""
    found = []
    label = _LABEL.match(raw)
    if label:
        name = (label.group("bold") or label.group("bracket") or label.group("plain")).strip()
        found.append((name, "plain" if label.group("plain") else "marked", bool(label.group("stamp")), label.end()))
    dash = _DASH_LABEL.match(raw)
    if dash:
        found.append((dash.group("name").strip(), "dash", bool(dash.group("stamp")), dash.end()))
    if following is not None and following.strip() and not _HEADING.match(following) and not _LABEL.match(following):
        alone = _ALONE_LABEL.match(raw)
        if alone:
            colon = alone.group("colon") or alone.group("colon_after")
            style = ("alone_marked" if alone.group("bold") else "alone_colon") if colon else "alone"
            found.append((alone.group("name").strip(), style, bool(alone.group("stamp")), len(raw)))
    return found


def _classify_lines(
    text: str, is_speaker: Callable[[str, str], bool] | None, excluded: Sequence[tuple[int, int]] = ()
) -> Iterable[Line]:
    """Classify each line; ``is_speaker`` (see :func:`_speaker_rule`) is given for transcripts only.

    In a transcript a line that is only a label (``MODERATOR``, ``Deltaker 2:``) followed directly by a line
    of text is a ``speaker`` line: the label of the next line, not content. A line that is only a timestamp is
    a ``stamp`` line. A line opening with a timestamp, with or without a label, is ``stamped``: a new
    utterance, so that no unit contains a timestamp.
    """
    position = 0
    ranges = iter(sorted(excluded))
    current = next(ranges, None)
    raws = text.split("\n")
    for number, raw in enumerate(raws):
        start, end = position, position + len(raw)
        position = end + 1
        while current is not None and current[1] < start:
            current = next(ranges, None)
        if current is not None and current[0] <= end and start <= current[1] and raw.strip():
            yield Line(start, end, "excluded", start)
            continue
        if not raw.strip():
            yield Line(start, end, "blank", start)
            continue
        heading = _HEADING.match(raw)
        if heading:
            yield Line(start, end, "heading", start, heading=_strip_markup(heading.group(2)),
                       level=len(heading.group(1)))
            continue
        if is_speaker is not None:
            following = raws[number + 1] if number + 1 < len(raws) else None
            found = next((c for c in _label_candidates(raw, following) if is_speaker(c[0], c[1])), None)
            if found is not None:
                name, style, stamped, offset = found
                kind = "speaker" if style.startswith("alone") else "text"
                yield Line(start, end, kind, start + offset, label=name, stamped=stamped)
                continue
            if _STAMP_LINE.match(raw):
                yield Line(start, end, "stamp", end, stamped=True)
                continue
            stamp = _TIMESTAMP_ONLY.match(raw)
            if stamp:
                yield Line(start, end, "text", start + stamp.end(), label="", stamped=True)
                continue
        bullet = _BULLET.match(raw)
        if bullet:
            yield Line(start, end, "bullet", start + bullet.end())
            continue
        yield Line(start, end, "text", start + len(raw) - len(raw.lstrip()))


_NUMBERED = re.compile(r"^(\d{1,2}(?:\.\d{1,2})*)\.?\s+\S")
_NOT_HEADING_END = (".", ",", ";", ":", "-", "–", "—", "/", "(", "?", "!", "…")
"""A line ending like this is a sentence or a question, not a heading."""
_FUNCTION_WORDS = {"i", "og", "av", "for", "til", "med", "på", "som", "at", "om", "en", "et", "ei", "den", "det", "de",
                   "er", "har", "å", "fra", "frå", "eller", "men", "ved", "mot", "etter", "under", "over", "ein", "eit"}


def _plain_headings(lines: list[Line], text: str) -> list[Line]:
    """Find headings in plain text without markup (PDF exports): a short line that opens a block, starts with a
    capital or a section number, has no final punctuation and is followed by body text.

    Only used for documents without Markdown headings, so that notes written in Markdown keep their own
    structure. Hard-wrapped paragraphs open with full-width lines, so "short" is measured against the
    document's wrap width. A line ending in ``?`` or ``!`` is a question or an exclamation, which is content
    ("Hva gjør vi med økonomien?"), unless it is written in capitals like a title. A line followed by a page
    break is not a heading either: typesetting keeps a heading with its paragraph, so such a line is the end of
    a paragraph cut by the page break.
    """
    lengths = sorted(line.end - line.start for line in lines if line.kind == "text")
    if not lengths:
        return lines
    wrap = lengths[int(0.9 * (len(lengths) - 1))]
    limit = min(80, int(0.8 * wrap)) if wrap >= 60 else 80
    out = list(lines)
    for i, line in enumerate(lines):
        if line.kind != "text" or line.label:
            continue
        opens_block = i == 0 or lines[i - 1].kind in ("blank", "excluded", "heading")
        following = next((n for n in lines[i + 1 :] if n.kind not in ("blank", "excluded")), None)
        content = text[line.content_start : line.end].strip()
        if not (opens_block and following is not None and following.kind in ("text", "bullet")):
            continue
        if "\f" in text[line.end : following.content_start]:
            continue  # the last line of a page
        body = text[following.content_start : following.content_start + 1]
        if following.kind == "text" and not body.isupper():
            continue  # the next line goes on in lower case or with a number: a wrapped sentence
        if content.rsplit(None, 1)[-1].lower() in _FUNCTION_WORDS:
            continue  # "... ble vedtatt i": a sentence cut by the wrap
        if not (2 <= len(content) <= limit and len(content.split()) <= 12):
            continue
        if content.endswith(_NOT_HEADING_END) and not (content.isupper() and content.endswith(("?", "!"))):
            continue  # a sentence or a question; a title in capitals may ask ("MER VELFERD MED BOLIG?")
        if not (content[0].isupper() or _NUMBERED.match(content)) or not any(c.isalpha() for c in content):
            continue
        numbered = _NUMBERED.match(content)
        level = numbered.group(1).count(".") + 1 if numbered else (1 if content.isupper() else 2)
        out[i] = Line(line.start, line.end, "heading", line.start, heading=content, level=level)
    return out


_GENERIC_LABEL = re.compile(
    rf"(?i:{_ROLES})(?:\s?\d{{1,3}})?|[A-ZÆØÅ]{{1,4}}\s?\d{{0,3}}|[A-ZÆØÅ][a-zæøå]{{0,2}}\s?\d{{1,3}}"
)
"""Labels that are speakers wherever they stand: roles (``Moderator``, ``Deltaker 3``), initials and codes
(``I``, ``IP``, ``D1``, ``Inf2``)."""
_STRONG_LABEL = re.compile(
    rf"(?i:{_ROLES})(?:[ \t]?\d{{1,3}})?(?:[ \t]*\([^()\n]{{1,30}}\))?"
    r"|I|IP|M|[A-ZÆØÅ][A-ZÆØÅa-zæøå]{0,2}[ \t]?\d{1,3}"
)
"""The labels that are unmistakably speakers: roles (``Moderator``, ``DELTAKER 1``, ``Deltaker 2 (NAV)``),
``I``, ``IP``, ``M`` and codes (``D1``, ``Inf2``). Only these are read in the looser styles (``Moderator –
text``, a label on a line of its own), and they make a document without ``kilde`` a transcript."""
_NOT_SPEAKERS = {
    "dato", "sted", "tid", "tidspunkt", "tema", "emne", "sak", "punkt", "merk", "nb", "obs", "ps", "først",
    "dernest", "deretter", "så", "til slutt", "avslutningsvis", "eksempel", "for eksempel", "kilde", "kjelde",
    "referat", "referent", "vedtak", "konklusjon", "oppsummering", "bakgrunn", "innledning", "formål", "mål",
    "status", "ansvar", "frist", "tiltak", "notat", "møte", "agenda", "dagsorden", "til stede", "tilstede",
    "fravær", "forfall", "deltakere", "deltakarar", "varighet", "opptak", "kommune", "fylke", "prosjekt", "fase",
    "del", "kapittel", "vedlegg", "forslag", "innspill", "resultat", "funn", "lenke", "e-post", "telefon",
    "adresse", "problemet", "poenget", "grunnen", "årsaken", "altså", "kort sagt", "med andre ord",
    "steg", "trinn", "nivå", "uke", "kap", "fig", "figur", "tab", "tabell", "side", "nr", "pkt", "runde",
}
"""Words that end in a colon in notes and running text ("Dato:", "Først:", "Merk:"), never speakers; also with
a number ("Fase 2:", "Del 3:")."""


def _not_a_speaker(name: str) -> bool:
    folded = name.casefold()
    return folded in _NOT_SPEAKERS or re.sub(r"[ \t]?\d{1,3}$", "", folded) in _NOT_SPEAKERS


def _speaker_rule(text: str, known_labels: set[str], every_label: bool = False) -> Callable[[str, str], bool]:
    """The test ``is_speaker(name, style)`` for whether a label at the start of a line of a transcript (styles as
    in :func:`_label_candidates`) is a speaker.

    A label the front matter's ``deltakere`` lists is one; a word from :data:`_NOT_SPEAKERS` is not. The looser
    styles (``Moderator – text``, a label on a line of its own without a colon) need a role or a code
    (:data:`_STRONG_LABEL`). With ``deltakere`` given, only the listed and the generic labels
    (:data:`_GENERIC_LABEL`) are speakers. Without it, a label is a speaker when it is generic, marked up
    (``**Kari:**``, ``[NAV]:``), a name of two or more capitalised words (``Kari Nordmann:``) or one that recurs
    as a label in the document: "Først: det er for få boliger" is the speaker's own enumeration, not a new
    speaker. In subtitles (``every_label``) the reader wrote the labels from the cues' voices, so every
    plausible one is a speaker.
    """
    known = {label.casefold() for label in known_labels}
    raws = text.split("\n")
    counts = Counter(m.group("plain").strip() for m in map(_LABEL.match, raws) if m and m.group("plain"))
    counts.update(name for number, raw in enumerate(raws) if raw.rstrip().endswith(":")
                  for name, style, _, _ in _label_candidates(raw, raws[number + 1] if number + 1 < len(raws) else None)
                  if style == "alone_colon")

    def is_speaker(name: str, style: str = "plain") -> bool:
        if name.casefold() in known:
            return True
        if _not_a_speaker(name) or not _plausible_label(name):
            return False
        if style in ("dash", "alone"):
            return bool(_STRONG_LABEL.fullmatch(name))
        if _GENERIC_LABEL.fullmatch(name):
            return True
        if known:
            return False
        if every_label or style in ("marked", "alone_marked"):
            return True
        full_name = len(name.split()) >= 2 and all(word[:1].isupper() for word in name.split())
        return full_name or counts[name] >= 2

    return is_speaker


def _plausible_label(name: str) -> bool:
    """Speaker labels are short names or roles, not the start of a sentence ("Det vi sa var:")."""
    words = name.split()
    return 0 < len(words) <= 4 and not name.endswith((" og", " i", " på"))


def _strip_markup(text: str) -> str:
    return text.replace("**", "").replace("__", "").strip()


def _lstrip(text: str, start: int, end: int) -> int:
    while start < end and text[start].isspace():
        start += 1
    return start


def _rstrip(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


def _unit(start: int, end: int, speaker: str, heading: Sequence[str]) -> dict:
    return {"start": start, "end": end, "speaker": speaker, "heading": " > ".join(heading),
            "heading_path": tuple(heading)}


def _turns(blocks: list[Block], text: str) -> list[dict]:
    """Merge consecutive paragraphs of one speaker into a turn; without labels a turn is a paragraph."""
    units: list[dict] = []
    current: dict | None = None
    for block in blocks:
        continues_turn = (current is not None and not block.label and not block.stamped and block.speaker
                          and block.speaker == current["speaker"] and block.heading_path == current["_path"]
                          and not block.after_excluded)
        if continues_turn:
            current["end"] = block.end
            continue
        current = {**_unit(block.start, block.end, block.speaker, block.heading_path), "_path": block.heading_path}
        units.append(current)
    for unit in units:
        unit.pop("_path")
    return units


def _sentences(blocks: list[Block], text: str, nlp) -> list[dict]:
    """The sentences of each block. A block longer than ``nlp.max_length`` (a hard-wrapped PDF export without
    blank lines can be one paragraph of millions of characters) goes through the pipeline in pieces cut at
    line breaks (see :func:`pipeline_pieces`); a sentence running over a cut is two units."""
    units = []
    pieces = [(number, start, end) for number, block in enumerate(blocks)
              for start, end in pipeline_pieces(text, block.start, block.end, nlp.max_length)]
    disabled = [name for name in nlp.pipe_names if name not in {"tok2vec", "senter", "parser", "sentencizer"}]
    with nlp.select_pipes(disable=disabled):
        docs = nlp.pipe((text[start:end] for _, start, end in pieces), batch_size=64)
        for (number, offset, _), doc in zip(pieces, docs, strict=True):
            block = blocks[number]
            for sent in doc.sents:
                start = _lstrip(text, offset + sent.start_char, offset + sent.end_char)
                end = _rstrip(text, start, offset + sent.end_char)
                if end > start:
                    units.append({**_unit(start, end, block.speaker, block.heading_path), "_block": number})
    return units


def pipeline_pieces(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """``(start, end)`` pieces of ``text[start:end]``, each at most ``limit`` characters, cut after the last
    line break in reach, else after the last space, else at the limit."""
    pieces = []
    while end - start > limit:
        window = text[start : start + limit]
        cut = window.rfind("\n") + 1 or window.rfind(" ") + 1 or limit
        pieces.append((start, start + cut))
        start += cut
    pieces.append((start, end))
    return pieces


def _windows(sentences: list[dict], size: int) -> list[dict]:
    if size < 1:
        raise ValueError("window size must be at least 1 sentence")
    units = []
    by_block: dict[int, list[dict]] = {}
    for sentence in sentences:
        by_block.setdefault(sentence["_block"], []).append(sentence)
    for block_sentences in by_block.values():  # a window never reaches over into the next paragraph
        for i in range(0, len(block_sentences), size):
            group = block_sentences[i : i + size]
            units.append({**group[0], "end": group[-1]["end"]})
    return units


def _rows(document: Document, unit: str, spans: list[dict]) -> pd.DataFrame:
    occurrences: Counter[str] = Counter()
    rows = []
    for index, span in enumerate(spans):
        text = document.text[span["start"] : span["end"]]
        occurrences[text] += 1
        speaker = span["speaker"]
        role = document.speakers[speaker].role if speaker in document.speakers else ""
        rows.append(
            {
                "document": document.name,
                "kommune": document.kommune,
                "segment_id": segment_id(document.name, unit, text, occurrences[text]),
                "start": span["start"],
                "end": span["end"],
                "speaker": speaker,
                "text": text,
                "unit": unit,
                "index": index,
                "role": role,
                "heading": span["heading"],
                "kilde": document.kilde,
                "fylke": str(document.metadata.get("fylke", "") or ""),
                "dato": str(document.metadata.get("dato", "") or ""),
                "_heading_path": span.get("heading_path", ()),
            }
        )
    return pd.DataFrame(rows, columns=SEGMENT_COLUMNS + EXTRA_COLUMNS + ["_heading_path"])


def _attribute(table: pd.DataFrame, nlp) -> pd.DataFrame:
    """Add ``attributed_kommune`` and ``attribution``; segment texts go through ``nlp.pipe`` once."""
    from qualkit.errors import KommuneError
    from qualkit.kommune import attribute, kommune_register

    register = kommune_register()
    if nlp is None:
        from qualkit.nlp import load

        nlp = load()
    texts = table["text"].tolist()
    sources: list = list(texts)  # without named entities: the conservative word rule of find_mentions_in_text
    if "ner" in nlp.pipe_names:
        keep = {"ner", "tok2vec", "transformer"}
        fitting = [i for i, t in enumerate(texts) if len(t) <= nlp.max_length]  # longer ones keep the word rule
        with nlp.select_pipes(disable=[n for n in nlp.pipe_names if n not in keep]):
            for i, doc in zip(fitting, nlp.pipe((texts[i] for i in fitting), batch_size=64), strict=True):
                sources[i] = doc
    kommuner: dict[str, object] = {}
    names, reasons = [], []
    for source, kommune, path in zip(sources, table["kommune"], table["_heading_path"], strict=True):
        if kommune not in kommuner:
            try:
                kommuner[kommune] = register.normalise(kommune) if kommune else None
            except KommuneError:
                kommuner[kommune] = None
        result = attribute(source, kommuner[kommune], list(path), register=register)
        names.append(result.kommune.navn if result.kommune is not None else "")
        reasons.append(result.reason)
    table = table.copy()
    table["attributed_kommune"] = names
    table["attribution"] = reasons
    return table


def speaker_table(documents: Iterable[Document]) -> pd.DataFrame:
    """One row per speaker of each document: ``document``, ``label``, ``role``, ``turns`` (turns found in the
    text), ``source`` (``metadata`` when the front matter's ``deltakere`` lists the label, else ``text``) and
    one column per further attribute in the metadata (``kjønn``, ``etat``, ...)."""
    rows = []
    for document in documents:
        turns = Counter(b.label for b in parse_blocks(document) if b.label)
        for label, speaker in document.speakers.items():
            rows.append({"document": document.name, "label": label, "role": speaker.role,
                         "turns": turns.get(label, 0), "source": "metadata", **speaker.attributes})
        for label, n in turns.items():
            if label not in document.speakers:
                rows.append({"document": document.name, "label": label, "role": "", "turns": n, "source": "text"})
    base = ["document", "label", "role", "turns", "source"]
    table = pd.DataFrame(rows)
    if table.empty:
        return pd.DataFrame(columns=base)
    return table[base + [c for c in table.columns if c not in base]]


def segment_id(document: str, unit: str, text: str, occurrence: int = 1) -> str:
    """A stable id: the same file ingested again gives the same ids; edits elsewhere in it do not shift them."""
    digest = hashlib.sha1(f"{document}\x1f{unit}\x1f{occurrence}\x1f{text}".encode()).hexdigest()[:10]
    stem = document.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return f"{stem}-{unit[0]}{digest}"
