"""Structure normalisers: find what must stay out of the coding units, without rewriting the text.

The stored text is normalised once (NFC, LF; see :mod:`qualkit.ingest.text`) and every offset refers to it.
The normalisers here therefore never change the text: they return :class:`Excluded` ranges (whole lines) that
the segmenter treats like blank lines. Only the optional OCR repair (:mod:`qualkit.ingest.ocr`) rewrites the
text, before it is stored, and reports every change.

Switches (``read_document(..., normalisers=...)``):

=================  ========================================================================================
``page_artefacts``  lone page numbers ("12", "- 12 -", "Side 12 av 40") between blank lines, form feeds,
                    horizontal rules (``---``) and, where form feeds mark the pages, running headers and
                    footers
``toc``             tables of contents: runs of >= 3 lines ending in dot leaders or a TAB and a page number,
                    with an "Innhold"/"Innholdsfortegnelse" heading just above them
``references``      a reference list under a heading "Referanser", "Litteratur(liste)", "Kilder", ...
``participants``    participant lists: under a heading "Deltakere", "Oversikt over deltakere", "Til stede",
                    ... and one-line lists such as "Til stede: Moderator, D1, D2"
``footnotes``       footnote bodies: markdown ``[^1]: ...``, ``<sup>1</sup> ...``, "¹ ..." and short
                    "1 Text ... ." blocks, OCR-garbled "! https://..." after a cut sentence; they are
                    excluded (the markers in the running text stay)
``page_joins``      (segmentation) a paragraph cut by a page break (blank lines only) is joined when it ends
                    without final punctuation and the next one starts in lower case
``ocr``             Norwegian OCR repair (off by default; rewrites the text and reports each change)
=================  ========================================================================================

The default is every switch except ``ocr``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from qualkit.ingest.document import Excluded

NORMALISERS = ("page_artefacts", "toc", "references", "participants", "footnotes", "page_joins", "ocr")
DEFAULT_NORMALISERS = frozenset(NORMALISERS) - {"ocr"}


def resolve(normalisers: str | Iterable[str] | None) -> frozenset[str]:
    """``None`` or ``"default"``: the default; ``"all"``; ``"none"``/``()``: nothing; else the names given.

    A name may be prefixed with ``-`` to remove it from the default (``["-footnotes"]``) or ``+`` to add it
    (``["+ocr"]``).
    """
    if normalisers is None or normalisers == "default":
        return DEFAULT_NORMALISERS
    if isinstance(normalisers, str):
        if normalisers == "all":
            return frozenset(NORMALISERS)
        if normalisers == "none":
            return frozenset()
        normalisers = [n.strip() for n in normalisers.split(",") if n.strip()]
    names = list(normalisers)
    relative = bool(names) and all(n[:1] in "+-" for n in names)
    chosen = set(DEFAULT_NORMALISERS) if relative else set()
    for name in names:
        bare = name.lstrip("+-")
        if bare not in NORMALISERS:
            raise ValueError(f"unknown normaliser {bare!r}; choose from {', '.join(NORMALISERS)}")
        if name.startswith("-"):
            chosen.discard(bare)
        else:
            chosen.add(bare)
    return frozenset(chosen)


@dataclass(frozen=True)
class _Line:
    number: int  # 0-based
    start: int
    end: int
    raw: str

    @property
    def blank(self) -> bool:
        return not self.raw.strip()

    @property
    def stripped(self) -> str:
        return self.raw.strip()


def _lines(text: str) -> list[_Line]:
    lines, position = [], 0
    for number, raw in enumerate(text.split("\n")):
        lines.append(_Line(number, position, position + len(raw), raw))
        position += len(raw) + 1
    return lines


def _blocks(lines: list[_Line]) -> Iterator[list[_Line]]:
    """Runs of non-blank lines."""
    block: list[_Line] = []
    for line in lines:
        if line.blank:
            if block:
                yield block
            block = []
        else:
            block.append(line)
    if block:
        yield block


def find_excluded(text: str, normalisers: Iterable[str] = DEFAULT_NORMALISERS) -> list[Excluded]:
    """The line ranges of ``text`` to keep out of coding units, sorted and not overlapping."""
    enabled = set(normalisers)
    lines = _lines(text)
    found: list[Excluded] = []
    if "page_artefacts" in enabled:
        found += _page_artefacts(lines)
    if "toc" in enabled:
        found += _toc(lines)
    if "references" in enabled:
        found += _listed_section(lines, _REFERENCES_HEADING, "references", _reference_like)
    if "participants" in enabled:
        found += _listed_section(lines, _PARTICIPANTS_HEADING, "participants", _participant_like)
        found += _inline_participants(lines)
    if "footnotes" in enabled:
        found += _footnotes(lines)
    return _merge(found)


def _merge(ranges: list[Excluded]) -> list[Excluded]:
    merged: list[Excluded] = []
    for item in sorted(ranges, key=lambda r: (r.start, -r.end)):
        if merged and item.start <= merged[-1].end:
            last = merged[-1]
            if item.end > last.end:
                merged[-1] = Excluded(last.start, item.end, last.kind)
            continue
        merged.append(item)
    return merged


# Page artefacts ---------------------------------------------------------------------------------------

_PAGE_NUMBER = re.compile(
    r"^(?:[-–—]\s*)?(?:(?:[Ss]ide|[Pp]age|s\.)\s*)?\d{1,3}(?:\s*(?:av|/|of)\s*\d{1,3})?(?:\s*[-–—])?$"
)
_RULE = re.compile(r"^(?:[-*_]\s*){3,}$")


def _page_artefacts(lines: list[_Line]) -> list[Excluded]:
    found = _running_headers(lines)
    for i, line in enumerate(lines):
        content = line.stripped
        if not content:
            continue
        if set(content) <= {"\f"}:
            found.append(Excluded(line.start, line.end, "page_break"))
        elif _RULE.fullmatch(content) and len(set(content.replace(" ", ""))) == 1:
            found.append(Excluded(line.start, line.end, "rule"))
        elif _PAGE_NUMBER.match(content.strip("\f")):
            before = i == 0 or lines[i - 1].blank
            after = i + 1 == len(lines) or lines[i + 1].blank
            if before or after:  # a page number is never part of a paragraph's running text
                found.append(Excluded(line.start, line.end, "page_number"))
    return found


_RUNNING_MAX = 100
"""Longest line taken for a running header or footer."""


def _pages(lines: list[_Line]) -> list[list[_Line]]:
    """The non-blank lines of each page. pdftotext ends a page with a form feed, which stands at the start of
    the next page's first line (or alone on a line)."""
    pages: list[list[_Line]] = [[]]
    for line in lines:
        if line.raw.lstrip(" \t").startswith("\f") and pages[-1]:
            pages.append([])
        if line.stripped.strip("\f"):
            pages[-1].append(line)
    return pages


def _running_headers(lines: list[_Line]) -> list[Excluded]:
    """Running headers and footers of PDF text (only where form feeds mark the pages).

    A header or footer is the first or last line of a page (page numbers aside) that comes back at the top or
    bottom of another page, digits aside ("Rapport 2024 – side 3"). A header that appears once is found by
    where it stands: at the top of a page, on a line of its own, between the two halves of a sentence cut by
    the page break (the previous page ends without final punctuation, the text below it goes on in lower case).
    """
    pages = _pages(lines)
    if len(pages) < 2:
        return []
    edges = [[line for line in page if not _PAGE_NUMBER.match(line.stripped.strip("\f"))] for page in pages]
    candidates = [(k, line) for k, page in enumerate(edges) if page for line in {page[0], page[-1]}]
    pages_of: dict[str, set[int]] = {}
    for k, line in candidates:
        pages_of.setdefault(_edge_key(line), set()).add(k)
    found = {line for _, line in candidates
             if len(pages_of[_edge_key(line)]) >= 2 and len(line.stripped) <= _RUNNING_MAX
             and any(c.isalpha() for c in line.stripped)}
    for k in range(1, len(edges)):
        if not edges[k] or not edges[k - 1] or edges[k][0] in found:
            continue
        top, before = edges[k][0], edges[k - 1][-1]
        below = next((line for line in lines[top.number + 1 :] if not line.blank), None)
        cut = not before.stripped.endswith(_TERMINAL) and len(top.stripped) <= _RUNNING_MAX
        if cut and below is not None and below.number > top.number + 1 and below.stripped[:1].islower():
            found.add(top)
    return [Excluded(line.start, line.end, "running_header") for line in found]


def _edge_key(line: _Line) -> str:
    return re.sub(r"\d+", "#", " ".join(line.stripped.strip("\f").split())).lower()


# Tables of contents -------------------------------------------------------------------------------------

_TOC_ENTRY = re.compile(r"\S.*?(?:\.{3,}|…{2,}|\t)\s*(?:<[^>]+>)*\s*\d{1,3}\s*(?:<[^>]+>)*\s*$")
_TOC_HEADING = re.compile(r"^(?:#{1,6}\s*)?[*_]*(?:innhold|innholdsfortegnelse|innhald|innhaldsliste|contents|"
                          r"table of contents)[*_]*\s*:?$", re.I)


def _toc(lines: list[_Line]) -> list[Excluded]:
    found = []
    run: list[_Line] = []

    def close() -> None:
        if len(run) >= 3:
            first = run[0].number
            for j in range(first - 1, max(first - 4, -1), -1):
                if _TOC_HEADING.match(lines[j].stripped):
                    first = j
                    break
                if not lines[j].blank:
                    break
            found.append(Excluded(lines[first].start, run[-1].end, "toc"))

    for line in lines:
        if not _TOC_ENTRY.match(line.raw):
            continue
        if run:
            gap = lines[run[-1].number + 1 : line.number]
            if len(gap) > 4 or sum(not g.blank for g in gap) > 2:
                close()
                run = []
        run.append(line)
    close()
    return found


# Reference and participant lists ----------------------------------------------------------------------

_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
_REFERENCES_HEADING = re.compile(
    r"^(?:#{1,6}\s*)?[*_]*(?:\d+\.?\s+)?(?:referanser|referanseliste|litteratur|litteraturliste|kilder|"
    r"kjelder|kildeliste|kjeldeliste|bibliografi|references|bibliography)[*_]*\s*:?$", re.I)
_PARTICIPANTS_HEADING = re.compile(
    r"^(?:#{1,6}\s*)?[*_]*(?:oversikt over deltakere\b.*|oversikt over deltagere\b.*|deltakere|deltakarar|"
    r"deltagere|deltakerliste|deltakarliste|deltagerliste|deltakeroversikt|informanter|participants|"
    r"til stede|tilstede|til stades)[*_]*\s*:?$", re.I)
_INLINE_PARTICIPANTS = re.compile(r"^[*_]*(?:deltakere|deltakarar|deltagere|til stede|tilstede|til stades|"
                                  r"informanter)[*_]*\s*:[*_]*\s*\S", re.I)
_YEAR = re.compile(r"\b(?:1[89]|20)\d{2}[a-z]?\b")
_URL = re.compile(r"https?://|www\.|doi\.org|\bdoi:", re.I)
_EMAIL = re.compile(r"\S+@\S+\.\w+")


def _reference_like(block: list[_Line]) -> bool:
    hits = sum(bool(_YEAR.search(line.raw) or _URL.search(line.raw)) for line in block)
    return hits * 2 >= len(block)


def _participant_like(block: list[_Line]) -> bool:
    """Lists of names, roles, organisations, e-mails: short lines, no running prose."""
    if any(_EMAIL.search(line.raw) for line in block):
        return True
    prose = [line for line in block if len(line.stripped) > 100 or line.stripped.endswith((".", "?", "!"))]
    return not prose


def _listed_section(lines: list[_Line], heading: re.Pattern[str], kind: str, belongs) -> list[Excluded]:
    """From a heading matching ``heading``, the following blocks as long as ``belongs(block)`` holds."""
    found = []
    for line in lines:
        if len(line.stripped) > 80 or not heading.match(line.stripped):
            continue
        end = line.end
        following = lines[line.number + 1 :]
        for block in _blocks(following):
            if _MD_HEADING.match(block[0].raw):
                break
            keep = []
            for candidate in block:  # a new heading inside a block ends the section
                if _MD_HEADING.match(candidate.raw):
                    break
                keep.append(candidate)
            if not keep or not belongs(keep):
                break
            end = keep[-1].end
            if len(keep) < len(block):
                break
        if end > line.end:
            found.append(Excluded(line.start, end, kind))
    return found


def _inline_participants(lines: list[_Line]) -> list[Excluded]:
    return [Excluded(line.start, line.end, "participants") for line in lines
            if _INLINE_PARTICIPANTS.match(line.stripped) and len(line.stripped) <= 300]


# Footnotes ------------------------------------------------------------------------------------------------

_MD_FOOTNOTE = re.compile(r"^\s{0,3}\[\^[^\]\s]+\]:")
_SUP_FOOTNOTE = re.compile(r"^\s*(?:<sup>\s*\d+\s*</sup>|[¹²³⁴⁵⁶⁷⁸⁹⁰]+)")
_PLAIN_FOOTNOTE = re.compile(r"^\s?\d{1,2}\s+[A-ZÆØÅ«\"(]")
_GARBLED_FOOTNOTE = re.compile(r"^\s?(?:[!'*©®¢%?§]|\d{1,2})\s+\S")  # OCR-damaged footnote numbers
_URL_ONLY = re.compile(r"^<?(?:https?://|www\.)\S+>?$")
_TERMINAL = (".", "!", "?", ":", ";", "»", "”", '"', ")")


def _footnotes(lines: list[_Line]) -> list[Excluded]:
    found = []
    blocks = list(_blocks(lines))
    previous_footnote_end = -10
    for k, block in enumerate(blocks):
        first = block[0]
        footnote = False
        cut_before = k > 0 and not blocks[k - 1][-1].stripped.endswith(_TERMINAL)
        if _MD_FOOTNOTE.match(first.raw):
            # a definition runs on over its indented continuation lines only
            end = first
            for line in block[1:]:
                if _MD_FOOTNOTE.match(line.raw) or line.raw.startswith(("    ", "\t")):
                    end = line
                else:
                    break
            found.append(Excluded(first.start, end.end, "footnote"))
            previous_footnote_end = end.number
            continue
        if _SUP_FOOTNOTE.match(first.raw):
            footnote = True
        elif _URL_ONLY.match(first.stripped) and len(block) == 1 and first.number - previous_footnote_end <= 2:
            footnote = True  # a link on its own line right under a footnote body
        elif _PLAIN_FOOTNOTE.match(first.raw) and len(block) <= 4 and len(" ".join(x.raw for x in block)) > 30:
            body = " ".join(x.stripped for x in block)
            footnote = body.endswith((".", ")")) and (cut_before or bool(_URL.search(body) or _YEAR.search(body)))
            footnote = footnote and not _looks_numbered_list(blocks, k)
        if not footnote and cut_before and len(block) <= 6 and _GARBLED_FOOTNOTE.match(first.raw):
            # between the two halves of a sentence (PDF/OCR page bottom): "! https://...", "* Dette var ..."
            body = " ".join(x.stripped for x in block)
            footnote = body.endswith((".", ")")) or bool(_URL.search(body))
        if footnote:
            found.append(Excluded(first.start, block[-1].end, "footnote"))
            previous_footnote_end = block[-1].number
    return found


def _looks_numbered_list(blocks: list[list[_Line]], k: int) -> bool:
    """"1 Innledning" / "2 Metode": numbered headings or list items come in sequences of short blocks."""
    neighbours = [blocks[j] for j in (k - 1, k + 1) if 0 <= j < len(blocks)]
    return any(_PLAIN_FOOTNOTE.match(b[0].raw) and len(b) == 1 and len(b[0].stripped) < 60 for b in neighbours)
