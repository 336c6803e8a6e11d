"""Convert the Norwegian Dependency Treebank (NDT, NorNE edition) to spaCy ``DocBin`` files.

NDT uses its own tag set (``subst``, ``verb``, ``det`` ...), features (``appell|mask|ub|ent``) and
dependency relations, and has no ``SpaceAfter`` information.  This module

* reads NDT ``.conll`` files and UD ``.conllu`` files (``read_conll``),
* maps NDT tags/features to UPOS + UD features (``map_token``),
* reconstructs the spacing between tokens (``space_after``),
* derives a train/dev/test split at the level of NDT files by matching the sentences of the
  UD dev/test files (``derive_splits``), and
* writes multi-sentence ``Doc`` objects with POS, morphology, lemmas, sentence starts and NorNE
  entities to ``.spacy`` files (``convert``).

The UD treebank (UD_Norwegian-Bokmaal/-Nynorsk) was derived from NDT, so a UD sentence is an NDT
sentence; only headline-final ``|`` tokens and a few abbreviation periods differ.
"""

from __future__ import annotations

import json
import re
import unicodedata
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc, DocBin, Span

LANGS = ("nob", "nno")
UD_NAMES = {"nob": "no_bokmaal", "nno": "no_nynorsk"}
RECIPE_DIR = Path(__file__).resolve().parent.parent / "data" / "pipeline" / "recipe"
SPLITS_FILE = RECIPE_DIR / "splits.json"

# --------------------------------------------------------------------------------------------------
# Reading


@dataclass
class Token:
    """One row of an NDT/CoNLL-U file (only the columns we use)."""

    id: int
    form: str
    lemma: str
    pos: str
    feats: str
    head: int
    deprel: str
    misc: str

    @property
    def feat_set(self) -> set[str]:
        return set() if self.feats in ("_", "") else set(self.feats.split("|"))

    @property
    def ent(self) -> str:
        """The NorNE IOB tag (``O``, ``B-PER``, ``I-GPE_LOC``...) from the MISC column."""
        for item in self.misc.split("|"):
            if item.startswith("name="):
                return item[5:]
        return "O"

    @property
    def space_after_ud(self) -> bool | None:
        """``SpaceAfter`` from a UD MISC column, ``None`` when the column does not say."""
        return False if "SpaceAfter=No" in self.misc.split("|") else None


@dataclass
class Sentence:
    tokens: list[Token]
    meta: dict[str, str] = field(default_factory=dict)
    source: str = ""  # "path:line" of the first token, for error messages

    @property
    def words(self) -> list[str]:
        return [t.form for t in self.tokens]


def read_conll(path: Path | str) -> Iterator[Sentence]:
    """Yield the sentences of an NDT ``.conll`` or UD ``.conllu`` file.

    Multi-word token ranges (``1-2``) and empty nodes (``1.1``) are skipped.  A malformed line raises
    ``ValueError`` naming the file and line.
    """
    path = Path(path)
    tokens: list[Token] = []
    meta: dict[str, str] = {}
    start = 0
    with path.open(encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, 1):
            line = raw.rstrip("\n").rstrip("\r")
            if not line.strip():
                if tokens:
                    yield Sentence(tokens, meta, f"{path}:{start}")
                tokens, meta = [], {}
                continue
            if line.startswith("#"):
                key, _, value = line[1:].partition("=")
                meta[key.strip()] = value.strip()  # flags such as "# newpar" get ""
                continue
            cols = line.split("\t")
            if len(cols) != 10:
                raise ValueError(f"{path}:{lineno}: expected 10 tab-separated columns, got {len(cols)}")
            if "-" in cols[0] or "." in cols[0]:
                continue
            try:
                tok = Token(int(cols[0]), cols[1], cols[2], cols[3], cols[5], int(cols[6]), cols[7], cols[9])
            except ValueError as err:
                raise ValueError(f"{path}:{lineno}: {err}") from err
            if not tokens:
                start = lineno
            tokens.append(tok)
    if tokens:
        yield Sentence(tokens, meta, f"{path}:{start}")


# --------------------------------------------------------------------------------------------------
# Tag and feature mapping

AUX_LEMMAS = {"ha", "være", "vere", "bli", "kunne", "skulle", "måtte", "ville", "vilje", "få", "burde", "tørre"}
COPULA_LEMMAS = {"være", "vere"}
NEGATION = {"ikke", "ikkje", "ei"}
PUNCT_TAGS = {"clb", "<komma>", "<strek>", "<anf>", "<parentes-beg>", "<parentes-slutt>"}
SIMPLE_POS = {
    "adj": "ADJ",
    "adv": "ADV",
    "interj": "INTJ",
    "inf-merke": "PART",
    "ukjent": "X",
    "symb": "SYM",
    "subst": "NOUN",
}
GENDER = {"mask": "Masc", "fem": "Fem", "nøyt": "Neut"}
NUMBER = {"ent": "Sing", "eint": "Sing", "fl": "Plur"}
DEFINITE = {"ub": "Ind", "be": "Def", "bu": "Def"}  # "bu" (bunden): Nynorsk NDT
DEGREE = {"pos": "Pos", "komp": "Cmp", "sup": "Sup"}
PERSON = {"1": "1", "2": "2", "3": "3"}
CASE = {"nom": "Nom", "akk": "Acc", "gen": "Gen"}
_NUM_RE = re.compile(r"^[\d.,:/-]+$")


def _is_number(lemma: str) -> bool:
    return bool(_NUM_RE.match(lemma)) or lemma.lower() in CARDINALS


TOTAL = {"all", "alle", "hver", "kvar", "begge", "båe", "enhver", "einkvar"}
CARDINALS = set(
    "null en én ein éin to tre fire fem seks sju syv åtte ni ti elleve tolv tretten fjorten femten seksten"
    " sytten atten nitten tjue tjuge tretti tretti førti femti seksti sytti åtti nitti hundre tusen"
    " million millionar millioner milliard milliardar milliarder halvannen halvannan eneste einaste"
    " ene eine båe".split()
)


def map_upos(sent: Sentence, i: int) -> str:
    """UPOS of token ``i`` of an NDT sentence (NDT tag, features, lemma and dependents)."""
    tok = sent.tokens[i]
    feats = tok.feat_set
    pos, lemma = tok.pos, tok.lemma.lower()
    if pos in PUNCT_TAGS:
        return "PUNCT"
    if pos == "subst":
        return "PROPN" if "prop" in feats else "NOUN"
    if pos == "verb":
        deps = {t.deprel for t in sent.tokens if t.head == tok.id}
        if lemma in AUX_LEMMAS and "INFV" in deps:
            return "AUX"
        if lemma in COPULA_LEMMAS and "SPRED" in deps:
            return "AUX"
        return "VERB"
    if pos == "adv":
        return "PART" if lemma in NEGATION else "ADV"
    if pos == "sbu":
        return "PRON" if lemma == "som" else "SCONJ"
    if pos == "konj":
        return "CCONJ"
    if pos == "prep":
        if lemma in ("her", "der"):
            return "ADV"
        return "SCONJ" if _prep_is_sconj(sent, i) else "ADP"
    if pos == "det":
        if "poss" in feats:
            return "PRON"
        if "kvant" in feats and _is_number(lemma) and lemma not in ("en", "ein"):
            return "NUM"
        return "DET"
    if pos == "pron":
        return "PRON"
    return SIMPLE_POS.get(pos, "X")


def _prep_is_sconj(sent: Sentence, i: int) -> bool:
    """UD tags a preposition that introduces a clause (``for å``, ``etter at``, ``som``) as SCONJ."""
    tok = sent.tokens[i]
    nxt = sent.tokens[i + 1].pos if i + 1 < len(sent.tokens) else ""
    if nxt in ("inf-merke", "sbu"):
        return True
    objs = [t for t in sent.tokens if t.head == tok.id and t.deprel == "PUTFYLL"]
    return any(t.pos == "verb" for t in objs)


def map_feats(tok: Token, upos: str) -> dict[str, str]:
    """UD features for an NDT token, given its (already mapped) UPOS."""
    f = tok.feat_set
    out: dict[str, str] = {}

    def pick(table: dict[str, str], name: str) -> None:
        values = sorted({value for key, value in table.items() if key in f})
        if values:
            out[name] = ",".join(values)

    if upos in ("NOUN", "PROPN"):
        pick(GENDER, "Gender")
        if upos == "NOUN":
            pick(DEFINITE, "Definite")
            pick(NUMBER, "Number")
        if "fork" in f:
            out["Abbr"] = "Yes"
        if "gen" in f:
            out["Case"] = "Gen"
    elif upos == "ADJ":
        if "perf-part" in f or "<perf-part>" in f:
            out["VerbForm"] = "Part"
        elif "<pres-part>" in f:
            out["VerbForm"] = "Part"
        pick(DEGREE, "Degree")
        pick(DEFINITE, "Definite")
        pick(NUMBER, "Number")
        pick(GENDER, "Gender")
        if "fork" in f:
            out["Abbr"] = "Yes"
    elif upos in ("VERB", "AUX"):
        if "pres" in f:
            out.update(Mood="Ind", Tense="Pres", VerbForm="Fin")
        elif "pret" in f:
            out.update(Mood="Ind", Tense="Past", VerbForm="Fin")
        elif "imp" in f:
            out.update(Mood="Imp", VerbForm="Fin")
        elif "inf" in f:
            out["VerbForm"] = "Inf"
        elif "perf-part" in f:
            out["VerbForm"] = "Part"
        if "pass" in f:
            out["Voice"] = "Pass"
    elif upos == "PRON" or (upos == "DET" and tok.pos == "det"):
        _pron_det_feats(tok, upos, out)
    elif upos == "NUM":
        pick(GENDER, "Gender")
        pick(NUMBER, "Number")
        pick(DEFINITE, "Definite")
        out["NumType"] = "Card"
    elif upos == "PART" and tok.lemma.lower() in NEGATION:
        out["Polarity"] = "Neg"
    if "fork" in f:
        out["Abbr"] = "Yes"
    return out


def _pron_det_feats(tok: Token, upos: str, out: dict[str, str]) -> None:
    f = tok.feat_set
    lemma = tok.lemma.lower()
    for table, name in (
        (GENDER, "Gender"),
        (NUMBER, "Number"),
        (PERSON, "Person"),
        (CASE, "Case"),
        (DEFINITE, "Definite"),
    ):
        values = sorted({value for key, value in table.items() if key in f})
        if values:
            out[name] = ",".join(values)
    if "hum" in f:
        out["Animacy"] = "Hum"
    if "poss" in f:
        out.update(Poss="Yes", PronType="Prs")
    elif "refl" in f:
        out.update(PronType="Prs", Reflex="Yes")
    elif "pers" in f:
        out["PronType"] = "Prs"
    elif "dem" in f:
        out["PronType"] = "Dem"
    elif "sp" in f:
        out["PronType"] = "Int"
    elif "res" in f:
        out["PronType"] = "Rcp"
    elif lemma in ("en", "ein") and "kvant" in f:
        out["PronType"] = "Art"
    elif lemma in TOTAL:
        out["PronType"] = "Tot"
    elif lemma in ("ingen", "ingi", "inga", "ikkje-noko"):
        out.update(PronType="Neg", Polarity="Neg")
    elif "kvant" in f:
        out["PronType"] = "Ind"
    if tok.pos == "sbu":  # relative "som"
        out.clear()
        out["PronType"] = "Rel"


def feats_str(feats: dict[str, str]) -> str:
    """UD feature string, sorted as in UD (case-insensitive by name)."""
    return "|".join(f"{k}={v}" for k, v in sorted(feats.items(), key=lambda kv: kv[0].lower()))


def map_lemma(tok: Token) -> str:
    """NDT writes punctuation lemmas as ``$,``; we use the form itself."""
    if tok.lemma.startswith("$") and len(tok.lemma) > 1:
        return tok.form
    return tok.lemma


def map_token(sent: Sentence, i: int) -> tuple[str, str, str]:
    """(UPOS, UD feature string, lemma) for token ``i`` of an NDT sentence."""
    upos = map_upos(sent, i)
    return upos, feats_str(map_feats(sent.tokens[i], upos)), map_lemma(sent.tokens[i])


# --------------------------------------------------------------------------------------------------
# Spacing

NO_SPACE_BEFORE = set(",.:;!?)]}»”’%…") | {"...", "..", "'s"}
NO_SPACE_AFTER = set("([{«“")


def space_after(words: list[str]) -> list[bool]:
    """Reconstruct ``SpaceAfter`` for a tokenised NDT sentence.

    Rules: no space before closing punctuation, no space after opening brackets/quotes; straight
    double quotes alternate between opening and closing.  The last token gets a space (sentences of
    a doc are joined by a single space).
    """
    spaces = [True] * len(words)
    quote_open = False
    for i, word in enumerate(words):
        if word == '"':
            if quote_open:  # closing quote: attach to the previous token
                if i > 0:
                    spaces[i - 1] = False
            else:
                spaces[i] = False
            quote_open = not quote_open
            continue
        if i > 0 and (word in NO_SPACE_BEFORE or (len(word) > 1 and set(word) <= set(".!?"))):
            spaces[i - 1] = False
        if word in NO_SPACE_AFTER:
            spaces[i] = False
    if words:
        spaces[-1] = True
    return spaces


# --------------------------------------------------------------------------------------------------
# Split derivation


def sentence_key(words: Iterable[str]) -> str:
    """Normalised sentence key: letters and digits only (UD drops headline ``|`` and some periods)."""
    text = "".join(w for w in words if w != "|")
    return "".join(ch for ch in unicodedata.normalize("NFC", text).lower() if ch.isalnum())


def ndt_files(data_dir: Path, lang: str) -> list[Path]:
    files = sorted((data_dir / "ndt" / lang).glob("*.conll"))
    if not files:
        raise FileNotFoundError(f"no NDT .conll files in {data_dir / 'ndt' / lang}")
    return files


def ud_file(data_dir: Path, lang: str, split: str) -> Path:
    return data_dir / "ud" / lang / f"{UD_NAMES[lang]}-ud-{split}.conllu"


def derive_splits(data_dir: Path | str) -> dict:
    """Assign every NDT file to train, dev or test.

    A file is ``test`` if it contains a sentence of the UD test file, else ``dev`` if it contains a
    UD dev sentence, else ``train``.  Sentences are compared by ``sentence_key``.  Short sentences
    such as "Ja." or "NTB" occur in many files; a UD sentence whose key occurs in several NDT files
    only assigns a file when none of its candidate files is already assigned by an unambiguous
    match (then all candidates are excluded from training, to be safe).  A UD sentence that matches
    no NDT sentence exactly (UD corrected a few words) is matched fuzzily (``_fuzzy_match``).  Match
    counts are recorded so the derivation can be audited.
    """
    data_dir = Path(data_dir)
    result: dict = {"method": " ".join(derive_splits.__doc__.split()), "langs": {}}
    for lang in LANGS:
        file_keys: dict[str, set[str]] = {}
        for path in ndt_files(data_dir, lang):
            file_keys[path.name] = {sentence_key(s.words) for s in read_conll(path)}
        key_to_files: dict[str, set[str]] = {}
        for name, keys in file_keys.items():
            for key in keys:
                key_to_files.setdefault(key, set()).add(name)
        assigned: dict[str, str] = {}
        stats: dict[str, dict[str, int]] = {}
        for split in ("test", "dev"):
            counts = {"exact_unique": 0, "exact_ambiguous": 0, "fuzzy": 0, "unmatched": 0}
            ambiguous: list[set[str]] = []
            for sent in read_conll(ud_file(data_dir, lang, split)):
                key = sentence_key(sent.words)
                files = key_to_files.get(key)
                if not files:
                    files = _fuzzy_match(key, key_to_files)
                    counts["fuzzy" if files else "unmatched"] += 1
                elif len(files) > 1:
                    counts["exact_ambiguous"] += 1
                    ambiguous.append(files)
                    continue
                else:
                    counts["exact_unique"] += 1
                for name in files:
                    assigned.setdefault(name, split)
            for files in ambiguous:
                if not any(name in assigned for name in files):
                    for name in files:
                        assigned.setdefault(name, split)
            stats[split] = counts
        splits = {s: sorted(n for n in file_keys if assigned.get(n, "train") == s) for s in ("train", "dev", "test")}
        result["langs"][lang] = {"ud_sentence_matches": stats, **splits}
    return result


def _fuzzy_match(key: str, key_to_files: dict[str, set[str]], cutoff: float = 0.9) -> set[str]:
    """Files of the NDT sentence most similar to ``key`` (same first or last 12 characters,
    ``difflib`` ratio >= cutoff); empty if there is none."""
    from difflib import SequenceMatcher

    best, best_ratio = None, cutoff
    for other in key_to_files:
        if other[:12] == key[:12] or other[-12:] == key[-12:]:
            ratio = SequenceMatcher(None, key, other, autojunk=False).ratio()
            if ratio >= best_ratio:
                best, best_ratio = other, ratio
    return set(key_to_files[best]) if best else set()


def load_splits(path: Path = SPLITS_FILE) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------------------------
# Doc construction


HEADLINE_MARK = "|"  # NDT's end-of-headline pseudo-token; neither UD nor real text has it
LINE_BREAK = "\n"


def sentences_to_doc(vocab, sents: list[Sentence], *, ud: bool = False, layout: str = "running") -> Doc:
    """Build one ``Doc`` from consecutive sentences with gold annotation.

    ``ud=True``: the sentences are UD CoNLL-U (UPOS/FEATS already UD, ``SpaceAfter`` given);
    otherwise they are NDT and are mapped, and their dependency trees are kept with NDT's own
    relations (``SUBJ``, ``ADV``, ``PUTFYLL`` ...; the root gets ``ROOT``), which also fixes the
    sentence boundaries.  UD docs get sentence starts but no trees: their relations are UD's, which a
    parser trained on NDT does not predict.

    Sentences are joined by a space, except where real text would have a line break: NDT marks
    the end of a headline with a ``|`` token, which is dropped; every second such headline (chosen
    by a hash of its position, so conversion is deterministic) is followed by a ``"\n"`` token, the
    others by a space, so the senter learns both an unpunctuated headline in running text and a line
    break as sentence ends.  For UD gold docs, ``layout="paragraphs"`` puts a ``"\n"`` token before
    every ``# newpar`` sentence (``"running"``: spaces only, as spaCy's published figures).
    """
    if layout not in ("running", "paragraphs"):
        raise ValueError(f"layout must be 'running' or 'paragraphs', not {layout!r}")
    words: list[str] = []
    spaces: list[bool] = []
    pos: list[str] = []
    morphs: list[str] = []
    lemmas: list[str] = []
    starts: list[bool] = []
    iob: list[str] = []
    heads: list[int] = []
    deps: list[str] = []
    for k, sent in enumerate(sents):
        if k > 0 and _line_break_before(sent, sents[k - 1], ud=ud, layout=layout):
            spaces[-1] = False
            words.append(LINE_BREAK)
            spaces.append(False)
            pos.append("SPACE")
            morphs.append("")
            lemmas.append(LINE_BREAK)
            starts.append(False)
            iob.append("O")
            heads.append(len(words) - 2)  # ends the previous sentence, like its final punctuation
            deps.append(LINE_BREAK_DEP)
        keep = [i for i, tok in enumerate(sent.tokens) if ud or tok.form != HEADLINE_MARK]
        if not keep:
            continue
        if not ud:
            sent_heads, sent_deps = _tree(sent, keep, offset=len(words))
            heads.extend(sent_heads)
            deps.extend(sent_deps)
        sent_words = [sent.tokens[i].form for i in keep]
        if ud:
            sp = [sent.tokens[i].space_after_ud is not False for i in keep]
            for i in keep:
                tok = sent.tokens[i]
                pos.append(tok.pos)
                morphs.append("" if tok.feats == "_" else tok.feats)
                lemmas.append(map_lemma(tok))
        else:
            sp = space_after(sent_words)
            for i in keep:
                upos, feats, lemma = map_token(sent, i)
                pos.append(upos)
                morphs.append(feats)
                lemmas.append(lemma)
        sp[-1] = True
        words.extend(sent_words)
        spaces.extend(sp)
        starts.extend([True] + [False] * (len(sent_words) - 1))
        tags = _clean_iob(sent)
        iob.extend(tags[i] for i in keep)
    spaces[-1] = False
    if ud:
        doc = Doc(vocab, words=words, spaces=spaces, pos=pos, morphs=morphs, lemmas=lemmas, sent_starts=starts)
    else:  # the trees give the sentence boundaries (spaCy does not take both)
        doc = Doc(vocab, words=words, spaces=spaces, pos=pos, morphs=morphs, lemmas=lemmas, heads=heads, deps=deps)
    doc.ents = _iob_to_spans(doc, iob)
    return doc


LINE_BREAK_DEP = "IP"  # NDT's relation for sentence-final punctuation


def _tree(sent: Sentence, keep: list[int], offset: int) -> tuple[list[int], list[str]]:
    """Doc-level heads and relations of the kept tokens of an NDT sentence.

    ``offset`` is the doc index of the sentence's first kept token.  A token whose head was dropped
    (NDT attaches nothing to the headline mark, but be safe) takes the dropped token's head.
    """
    position = {sent.tokens[i].id: offset + n for n, i in enumerate(keep)}
    by_id = {tok.id: tok for tok in sent.tokens}
    heads: list[int] = []
    deps: list[str] = []
    for i in keep:
        tok = sent.tokens[i]
        head, seen = tok.head, set()
        while head and head not in position:
            if head not in by_id or head in seen:
                raise ValueError(f"{sent.source}: token {tok.id} ({tok.form!r}) has head {tok.head}, "
                                 "which is not a token of the sentence")
            seen.add(head)
            head = by_id[head].head
        if head == 0:
            heads.append(position[tok.id])
            deps.append("ROOT")
        else:
            heads.append(position[head])
            deps.append(tok.deprel)
    return heads, deps


def _line_break_before(sent: Sentence, previous: Sentence, *, ud: bool, layout: str) -> bool:
    if ud:
        return layout == "paragraphs" and "newpar" in sent.meta
    if not previous.tokens or previous.tokens[-1].form != HEADLINE_MARK:
        return False
    return zlib.crc32(previous.source.encode("utf-8")) % 2 == 0


def _clean_iob(sent: Sentence) -> list[str]:
    """NorNE IOB tags; an ``I-`` that does not continue an entity of its type becomes ``B-``."""
    out: list[str] = []
    prev = "O"
    for tok in sent.tokens:
        tag = tok.ent
        if tag.startswith("I-") and prev[2:] != tag[2:]:
            tag = "B-" + tag[2:]
        out.append(tag)
        prev = tag
    return out


def _iob_to_spans(doc: Doc, iob: list[str]) -> list[Span]:
    spans: list[Span] = []
    start, label = None, ""
    for i, tag in enumerate([*iob, "O"]):
        if start is not None and not tag.startswith("I-"):
            spans.append(Span(doc, start, i, label=label))
            start = None
        if tag.startswith("B-"):
            start, label = i, tag[2:]
    return spans


def chunk(sents: list[Sentence], size: int) -> Iterator[list[Sentence]]:
    for i in range(0, len(sents), size):
        yield sents[i : i + size]


def convert(
    data_dir: Path | str,
    out_dir: Path | str,
    *,
    splits: dict | None = None,
    doc_size: int = 10,
    nlp: Language | None = None,
) -> dict[str, Path]:
    """Write ``train.spacy`` and ``dev.spacy`` (NDT, mapped; both languages) and the UD gold
    ``ud-{dev,test}-{nob,nno}.spacy`` files to ``out_dir``.  Returns the written paths."""
    import spacy

    data_dir, out_dir = Path(data_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    splits = splits or load_splits()
    vocab = (nlp or spacy.blank("nb")).vocab
    written: dict[str, Path] = {}
    for split in ("train", "dev"):
        db = DocBin(store_user_data=False)
        for lang in LANGS:
            for name in splits["langs"][lang][split]:
                sents = list(read_conll(data_dir / "ndt" / lang / name))
                for group in chunk(sents, doc_size):
                    db.add(sentences_to_doc(vocab, group))
        written[split] = out_dir / f"{split}.spacy"
        db.to_disk(written[split])
    for lang in LANGS:
        for split in ("dev", "test"):
            db = DocBin(store_user_data=False)
            sents = list(read_conll(ud_file(data_dir, lang, split)))
            for group in chunk(sents, doc_size):
                db.add(sentences_to_doc(vocab, group, ud=True))
            key = f"ud-{split}-{lang}"
            written[key] = out_dir / f"{key}.spacy"
            db.to_disk(written[key])
    return written


# --------------------------------------------------------------------------------------------------
# Mapping check against UD dev


def mapping_agreement(data_dir: Path | str, split: str = "dev") -> dict[str, dict[str, float]]:
    """Agreement (%) of the NDT→UD mapping with the UD gold, per language, aligning sentences by
    ``sentence_key`` and tokens by position (only sentences with equal token counts)."""
    data_dir = Path(data_dir)
    result: dict[str, dict[str, float]] = {}
    for lang in LANGS:
        ndt: dict[str, Sentence] = {}
        for path in ndt_files(data_dir, lang):
            for sent in read_conll(path):
                ndt.setdefault(sentence_key(sent.words), sent)
        n = upos_ok = feats_ok = lemma_ok = sents = 0
        for gold in read_conll(ud_file(data_dir, lang, split)):
            src = ndt.get(sentence_key(gold.words))
            if src is None:
                continue
            toks = [t for t in src.tokens if t.form != "|"] if len(src.tokens) != len(gold.tokens) else None
            if toks is not None:
                src = Sentence(toks, src.meta, src.source)
                if len(toks) != len(gold.tokens):
                    continue
            sents += 1
            for i, g in enumerate(gold.tokens):
                upos, feats, lemma = map_token(src, i)
                n += 1
                upos_ok += upos == g.pos
                feats_ok += feats == ("" if g.feats == "_" else g.feats)
                lemma_ok += lemma == map_lemma(g)
        result[lang] = {
            "sentences": sents,
            "tokens": n,
            "upos": 100 * upos_ok / max(n, 1),
            "feats": 100 * feats_ok / max(n, 1),
            "lemma": 100 * lemma_ok / max(n, 1),
        }
    return result


def main() -> None:  # pragma: no cover - convenience entry point
    import sys

    data = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/norne")
    print(json.dumps(mapping_agreement(data), indent=2))


if __name__ == "__main__":  # pragma: no cover
    main()
