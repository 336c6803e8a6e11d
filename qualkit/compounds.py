"""Split Norwegian compounds into the base forms of their parts.

Norwegian writes compounds as one word (``utleieboliger``, ``tjenestetilbudet``), so a keyword
coder that only looks at lemmas misses most of the domain vocabulary. ``split_compound`` finds the
parts with a small dynamic-programming splitter over a hand-written lexicon of Bokmål and Nynorsk
stems (``qualkit/data/lexicon/``):

- every part but the last must be a lexicon stem, optionally followed by a linking ``s`` or ``e``
  (``arbeid-s-gruppe``, ``barn-e-hage``);
- the last part may be inflected (``boligene``, ``tilbudet``, ``brukere``, ``tenestene``) and is
  returned as its lemma;
- among the analyses that cover the whole word, the one with the fewest parts wins, then the one
  with fewer linking elements, then the one with longer parts;
- words in the protected list (``Husbanken``, ``midlertidig``, ``gjelder`` ...) are never split,
  and a word that is itself a lexicon entry is never split either: the lexicon lists the
  lexicalised units (``utleie``, ``misbruker``, ``barnevern``) that should stay whole.

>>> split_compound("utleieboliger")
['utleie', 'bolig']
>>> split_compound("rusmisbrukere")
['rus', 'misbruker']
>>> split_compound("Husbanken")
['husbanken']
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from spacy.tokens import Token

LEXICON_DIR = Path(__file__).parent / "data" / "lexicon"
LEXICON_FILES = ("nb.txt", "nn.txt")
PROTECTED_FILE = "protected.tsv"
MODIFIERS_FILE = "modifiers.tsv"

MIN_PART = 3
"""Minimum length of a part (of the lemma, for the last part)."""
SHORT_STEMS = frozenset({"bo", "bu"})
"""Two-letter stems allowed as parts anyway (bo-/bu- as in bostøtte, butrening)."""
MIN_WORD = 5
"""Words shorter than this are never split (the two shortest parts are 2 + 3 letters)."""
MAX_PART = 24
ADJECTIVE_SUFFIXES = frozenset({"lege", "leg"})
"""Endings that are a suffix, not a part, when they end the word with no linking element."""
FOOTNOTE_MARKS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
"""Superscript footnote numbers glued to words in converted reports (``velferdsstrategier⁸``)."""
LINKS = ("s", "e")
"""Linking elements (fuge-s and fuge-e) allowed after a non-final part."""

# (ending, replacement) rules that map an inflected form to its lemma, tried on the whole word and
# on the last part. Bokmål and Nynorsk nouns, adjectives and the few verbs that end compounds. A
# rule only counts when its result is a lexicon stem, so over-general rules do little harm.
# fmt: off
INFLECTIONS: tuple[tuple[str, str], ...] = (
    ("", ""),
    ("en", ""), ("et", ""), ("a", ""), ("er", ""), ("ene", ""),  # bolig-en/-et/-er/-ene
    ("n", ""), ("r", ""), ("ne", ""), ("a", "e"),  # tjeneste-n/-r/-ne, grupp-a
    ("ere", "er"), ("erne", "er"), ("eren", "er"),  # bruker-e/-ne
    ("ar", ""), ("ane", ""), ("ar", "e"), ("ane", "e"),  # nn: brukar-ar/-ane, avtal-ar
    ("e", ""), ("t", ""), ("est", ""), ("este", ""),  # adjectives: sosial-e/-t
    ("te", ""), ("de", ""), ("es", ""),  # verbs: leie-de
    # midler (funds) stays midler; other words in -middel (legemiddel) keep their singular lemma
    ("midler", "middel"), ("midlene", "midler"), ("midlene", "middel"), ("midlar", "middel"),
)
# fmt: on


@dataclass(frozen=True)
class Lexicon:
    """The stems the splitter knows and the words it must never split."""

    stems: frozenset[str]
    protected: dict[str, tuple[str, ...]]  # word -> its fixed analysis
    reasons: dict[str, str]  # word -> why it is protected
    modifiers: dict[str, str]  # first-part form -> lemma (hjemme -> hjem)


def _data_lines(name: str) -> list[str]:
    text = (LEXICON_DIR / name).read_text(encoding="utf-8")
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line]


def _fields(line: str, count: int) -> tuple[str, ...]:
    fields = tuple(field.strip() for field in line.split("\t"))
    if len(fields) != count:
        raise ValueError(f"lexicon line needs {count} tab-separated fields: {line!r}")
    return fields


def _fields_2(line: str) -> tuple[str, ...]:
    return _fields(line, 2)


@lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    """Read the lexicon files once (cached)."""
    stems = {line.lower() for name in LEXICON_FILES for line in _data_lines(name)}
    protected: dict[str, tuple[str, ...]] = {}
    reasons: dict[str, str] = {}
    for line in _data_lines(PROTECTED_FILE):
        word, lemma, reason = _fields(line, 3)
        word = word.lower()
        protected[word] = tuple(lemma.lower().split("+"))
        reasons[word] = reason
    modifiers = {form.lower(): lemma.lower() for form, lemma in map(_fields_2, _data_lines(MODIFIERS_FILE))}
    return Lexicon(frozenset(stems), protected, reasons, modifiers)


def _undouble(base: str) -> str | None:
    """``romm`` -> ``rom`` (rommet, hjemmet): nouns double their final consonant when inflected."""
    if len(base) > 2 and base[-1] == base[-2] and base[-1] not in "aeiouyæøå":
        return base[:-1]
    return None


def _rules_by_ending() -> dict[str, tuple[str, ...]]:
    rules: dict[str, list[str]] = {}
    for ending, replacement in INFLECTIONS:
        if replacement not in rules.setdefault(ending, []):
            rules[ending].append(replacement)
    return {ending: tuple(replacements) for ending, replacements in rules.items()}


RULES_BY_ENDING = _rules_by_ending()
ENDING_LENGTHS = sorted({len(ending) for ending in RULES_BY_ENDING})


def _lemmas(form: str, known: frozenset[str] | dict) -> list[str]:
    """All entries of ``known`` that ``form`` can be an inflection of, longest first.

    Longest first, so ``brukere`` is ``bruker`` (plural) rather than ``bruk`` (+ adjective -ere).
    Ties go to the shorter ending, then to the earlier rule (``midler`` stays ``midler``).
    """
    found: list[str] = []
    for length in ENDING_LENGTHS:
        if length >= len(form):
            break
        stem = form[: len(form) - length]
        for replacement in RULES_BY_ENDING.get(form[len(form) - length :], ()):
            base = stem + replacement
            if base not in known:
                base = _undouble(base) or ""
            if base in known and base not in found:
                found.append(base)
    if len(found) > 1:
        found.sort(key=len, reverse=True)  # stable
    return found


def lemmatise(form: str) -> str | None:
    """Lemma of ``form`` if it is a (possibly inflected) lexicon stem, else None.

    A trailing genitive ``s`` is accepted (``kommunens``). The longest lemma wins, so
    ``brukere`` is ``bruker``, not ``bruk``.
    """
    lexicon = load_lexicon()
    candidates = _lemmas(form, lexicon.stems)
    if not candidates and form.endswith("s") and len(form) > MIN_PART + 1:
        candidates = _lemmas(form[:-1], lexicon.stems)
    return candidates[0] if candidates else None


def protected_analysis(word: str) -> tuple[str, ...] | None:
    """The fixed analysis of ``word`` (or of the word it inflects) from the protected list.

    Most protected words are traps kept whole (``midlertidig``, ``Husbanken``); a few have a fixed
    split that the splitter would get wrong (``rusmidler`` -> rus + middel, not midler = funds).
    """
    protected = load_lexicon().protected
    word = word.lower()
    if word in protected:
        return protected[word]
    candidates = _lemmas(word, protected)
    if not candidates and word.endswith("s"):  # genitive: Husbankens
        candidates = _lemmas(word[:-1], protected)
    return protected[candidates[0]] if candidates else None


def _is_part(stem: str, stems: frozenset[str]) -> bool:
    return stem in stems and (len(stem) >= MIN_PART or stem in SHORT_STEMS)


def _first_part(form: str, lexicon: Lexicon) -> str | None:
    """Lemma of ``form`` as a non-final part (a stem or a modifier form like hjemme), or None."""
    if _is_part(form, lexicon.stems):
        return form
    return lexicon.modifiers.get(form)


# An analysis is scored as (number of parts, number of linking elements, -sum of squared part
# lengths): fewer parts first, then fewer linking elements, then longer parts.
Score = tuple[int, int, int]


def _prefix_analyses(word: str, lexicon: Lexicon) -> list[tuple[Score, list[str]] | None]:
    """best[i] = best way to cover ``word[:i]`` with stems (+ linking elements), or None."""
    n = len(word)
    best: list[tuple[Score, list[str]] | None] = [None] * (n + 1)
    best[0] = ((0, 0, 0), [])
    for start in range(n):
        entry = best[start]
        if entry is None:
            continue
        (parts, links, neg_sq), stems_so_far = entry
        for end in range(start + 2, min(n, start + MAX_PART) + 1):
            stem = _first_part(word[start:end], lexicon)
            if stem is None:
                continue
            base = (parts + 1, links, neg_sq - (end - start) ** 2)
            _offer(best, end, base, stems_so_far + [stem])
            if end < n and word[end] in LINKS:
                _offer(best, end + 1, (base[0], base[1] + 1, base[2]), stems_so_far + [stem])
    return best


def _offer(best: list, index: int, score: Score, parts: list[str]) -> None:
    if best[index] is None or score < best[index][0]:
        best[index] = (score, parts)


def _is_suffix(word: str, start: int) -> bool:
    """True if ``word[start:]`` is a derivational suffix that looks like a stem.

    Nynorsk adjectives end in -lege (``daglege``, ``personlege``), which is also the noun lege
    (doctor). Without a linking s (``tilsynslege``) or an inflection (``fylkeslegen``), take it
    for the suffix.
    """
    return word[start:] in ADJECTIVE_SUFFIXES and word[start - 1] not in LINKS


def _split_closed(word: str) -> list[str] | None:
    """Best split of a closed (unhyphenated) lower-case word into >= 2 parts, or None."""
    lexicon = load_lexicon()
    best = _prefix_analyses(word, lexicon)
    winner: tuple[Score, list[str]] | None = None
    for start in range(2, len(word) - MIN_PART + 1):
        entry = best[start]
        if entry is None:
            continue
        last = lemmatise(word[start:])
        if last is None or not _is_part(last, lexicon.stems) or _is_suffix(word, start):
            continue
        (parts, links, neg_sq), head = entry
        score = (parts + 1, links, neg_sq - len(last) ** 2)
        if winner is None or score < winner[0]:
            winner = (score, head + [last])
    return winner[1] if winner else None


def _analyse_word(word: str) -> list[str]:
    """Parts of one lower-case word without hyphens."""
    if not word.isalpha():
        return [word]
    protected = protected_analysis(word)
    if protected is not None:
        return list(protected)
    lemma = lemmatise(word)
    if lemma is not None:  # the whole word is one (inflected) lexicon entry: the fast path
        return [lemma]
    if len(word) < MIN_WORD:
        return [word]
    return _split_closed(word) or [word]


def _analyse_modifier(piece: str) -> list[str]:
    """Parts of a non-final hyphen piece (``samarbeids-`` in ``samarbeids-prosjektet``)."""
    lexicon = load_lexicon()
    if piece in lexicon.stems or not piece.isalpha():
        return [piece]
    best = _prefix_analyses(piece, lexicon)
    if best[len(piece)] is not None:
        return best[len(piece)][1]
    return _analyse_word(piece)


@lru_cache(maxsize=200_000)
def _split_cached(word: str) -> tuple[str, ...]:
    word = word.strip().lower().rstrip(FOOTNOTE_MARKS) or word.strip().lower()
    if "-" not in word:
        return tuple(_analyse_word(word))
    if (protected := protected_analysis(word)) is not None:
        return protected
    pieces = [piece.strip() for piece in word.split("-")]
    parts: list[str] = []
    for index, piece in enumerate(pieces):
        if not piece:  # coordination: "rus- og psykiske lidelser", "bo- og oppfølgingstjenester"
            continue
        is_last = index == len(pieces) - 1 or not any(pieces[index + 1 :])
        if " " in piece:  # "Housing First-bolig": keep the multi-word name as one part
            parts.append(piece)
        elif is_last:
            parts.extend(_analyse_word(piece))
        else:
            parts.extend(_analyse_modifier(piece))
    return tuple(parts) or (word,)


def split_compound(word: str) -> list[str]:
    """Lower-case base forms of the parts of ``word``; one element if it is not a compound.

    >>> split_compound("tjenestetilbudet")
    ['tjeneste', 'tilbud']
    >>> split_compound("bo-oppfølging")
    ['bo', 'oppfølging']
    >>> split_compound("midlertidig")
    ['midlertidig']
    """
    return list(_split_cached(word))


compound_parts = split_compound
"""Alias of :func:`split_compound`."""


def is_compound(word: str) -> bool:
    """True if ``word`` splits into two or more parts."""
    return len(_split_cached(word)) > 1


def token_compound_parts(token: Token) -> list[str]:
    """Parts of a spaCy token: split its text, or its lemma when that resolves the inflection.

    Proper nouns and named entities are kept whole (``Melhus``, ``Robin Hood-huset``).
    """
    text = token.text
    lemma = token.lemma_.lower() if token.lemma_ else ""
    if token.pos_ == "PROPN" or token.ent_type_:
        return [lemma or text.lower()]
    parts = split_compound(text)
    if len(parts) > 1 or protected_analysis(text) is not None or not lemma or lemma == text.lower():
        return parts
    return split_compound(lemma)


def register_token_extension(name: str = "compound_parts") -> None:
    """Add ``token._.compound_parts`` (a getter, so it costs nothing until it is read)."""
    from spacy.tokens import Token

    Token.set_extension(name, getter=token_compound_parts, force=True)


def clear_cache() -> None:
    """Forget cached splits (after editing the lexicon files in a running session)."""
    _split_cached.cache_clear()
    load_lexicon.cache_clear()


@dataclass(frozen=True)
class SplitScores:
    """Precision and recall of compound splitting over a gold list.

    Per word: a predicted split (two or more parts) is correct only if its parts equal the expected
    parts. ``precision`` = correct splits / words split; ``recall`` = correct splits / words whose
    expected analysis has two or more parts. ``accuracy`` counts every word whose whole output
    equals the expected output, non-compounds (lemma) included.
    """

    words: int
    split: int
    expected_compounds: int
    correct_splits: int
    exact: int

    @property
    def precision(self) -> float:
        return self.correct_splits / self.split if self.split else 1.0

    @property
    def recall(self) -> float:
        return self.correct_splits / self.expected_compounds if self.expected_compounds else 1.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    @property
    def accuracy(self) -> float:
        return self.exact / self.words if self.words else 1.0


def score_splits(gold: list[tuple[str, list[str]]]) -> SplitScores:
    """Score :func:`split_compound` on ``(word, expected parts)`` pairs."""
    split = expected = correct = exact = 0
    for word, parts in gold:
        predicted = split_compound(word)
        split += len(predicted) > 1
        expected += len(parts) > 1
        correct += len(predicted) > 1 and predicted == parts
        exact += predicted == parts
    return SplitScores(len(gold), split, expected, correct, exact)
