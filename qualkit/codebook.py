"""Codebooks: themes with labels, definitions, rules, examples and keyword patterns, validated on load.

A codebook is YAML (see ``codebooks/boligsosialt.yaml``). Loading validates it with pydantic and turns every
problem into a :class:`CodebookError` that names the file, the line and the field, e.g.::

    codebooks/mine.yaml, line 14, field codes[2].keywords: Input should be a valid list
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from qualkit.errors import CodebookError

DEFAULT_CODEBOOK = Path(__file__).resolve().parent.parent / "codebooks" / "boligsosialt.yaml"
CODE_NAME = re.compile(r"^[a-zæøå][a-zæøå0-9_]*$")


class Example(BaseModel):
    """A short text that shows the code in use (positive) or a near miss (``gjelder: false``)."""

    model_config = ConfigDict(extra="forbid")

    tekst: str = Field(min_length=1)
    gjelder: bool = True


#: Columns that qualkit's steps add next to the code columns, with what they hold. They are listed here rather
#: than imported because most of their modules pull in scikit-learn; ``tests/test_codebook.py`` runs each step
#: (context, labels, suggestions, quotes, attribution) and checks that every column it
#: adds is reserved, so the list cannot fall behind.
ADDED_COLUMNS = {
    "previous_text": "the text before a segment, added for the classifier",  # qualkit.classify.context
    "next_text": "the text after a segment, added for the classifier",  # qualkit.classify.context
    "line": "the line of a row in a labels file or of a quote",  # qualkit.classify.read_labels, qualkit.report
    "line_end": "the last line of a quote",  # qualkit.report.add_line_numbers
    "attributed_kommunenummer": "the number of the kommune a segment is about",  # qualkit.kommune
    "uncertainty": "how unsure the model is about a suggested segment",  # qualkit.active.suggest
    "priority": "the order of the suggested segments",  # qualkit.active.suggest
    "reviewed": "whether a coder has decided on a segment",  # qualkit.project.Project.coder_table
}


def reserved_names() -> dict[str, str]:
    """Column names a code may not have, with what the column holds: the segment table's own columns
    (:data:`qualkit.segment.SEGMENT_COLUMNS` and the rest) and the columns other steps add next to the codes
    (:data:`ADDED_COLUMNS`). A code of the same name would overwrite or duplicate one of them. Names ending in
    ``_score`` are taken as well (``<code>_score``), see :func:`is_reserved`."""
    from qualkit.segment import ATTRIBUTION_COLUMNS, EXTRA_COLUMNS, SEGMENT_COLUMNS

    table = dict.fromkeys([*SEGMENT_COLUMNS, *EXTRA_COLUMNS, *ATTRIBUTION_COLUMNS], "in the segment table")
    return {**table, **ADDED_COLUMNS}


def is_reserved(name: str) -> bool:
    """Whether a code of this name would clash with a column qualkit uses (``kommune``, ``next_text``, ``*_score``)."""
    return name in reserved_names() or name.endswith("_score")


class _LocatedError(ValueError):
    """A validation error that knows where in the codebook it belongs (``loc`` as in pydantic's errors)."""

    def __init__(self, message: str, loc: tuple[Any, ...]):
        super().__init__(message)
        self.loc = loc


class Code(BaseModel):
    """One theme of the codebook."""

    model_config = ConfigDict(extra="forbid")

    name: str
    label: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    definition: str = Field(min_length=1)
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    examples: list[Example] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    parts: list[str] = Field(default_factory=list)
    not_keywords: list[str] = Field(default_factory=list)
    subcodes: list[Code] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name_is_identifier(cls, value: str) -> str:
        if not CODE_NAME.match(value):
            raise ValueError(f"code name {value!r} must be lower-case letters (a-z, æ, ø, å), digits or _, starting "
                             "with a letter (it becomes a column)")
        if is_reserved(value):
            what = reserved_names().get(value, "names ending in _score are the codes' score columns")
            raise ValueError(f"code name {value!r} is a column qualkit uses already ({what}); call it e.g. "
                             f"{value}_kode")
        return value

    @field_validator("keywords")
    @classmethod
    def _keywords_are_clean(cls, values: list[str]) -> list[str]:
        """Words or phrases; each word may end in ``*`` (``bolig*``, ``kommunal* bolig*``)."""
        cleaned = []
        for value in values:
            pattern = value.strip().lower()
            if not pattern or any(word.rstrip("*") == "" or "*" in word.rstrip("*") for word in pattern.split()):
                raise ValueError(f"keyword pattern {value!r}: use words or a phrase, each word optionally ending "
                                 "in * (prefix)")
            cleaned.append(pattern)
        return cleaned

    @field_validator("parts", "not_keywords")
    @classmethod
    def _patterns_are_clean(cls, values: list[str]) -> list[str]:
        cleaned = []
        for value in values:
            pattern = value.strip().lower()
            if not pattern or pattern == "*" or "*" in pattern.rstrip("*"):
                raise ValueError(f"keyword pattern {value!r}: use words, optionally ending in * (prefix)")
            cleaned.append(pattern)
        return cleaned


class Codebook(BaseModel):
    """A validated codebook. ``code_names`` is the order of the code columns in every table."""

    model_config = ConfigDict(extra="forbid")

    name: str
    label: str
    version: str = "1"
    language: str = "nb"
    description: str = ""
    codes: list[Code] = Field(min_length=1)

    @model_validator(mode="after")
    def _names_are_unique(self) -> Codebook:
        seen: dict[str, tuple[Any, ...]] = {}
        for path, code in _walk(self.codes, ("codes",)):
            named = [((*path, "name"), code.name)]
            named += [((*path, "aliases", i), alias) for i, alias in enumerate(code.aliases)]
            for loc, name in named:
                if name in seen:
                    raise _LocatedError(f"code name or alias {name!r} occurs twice (first as "
                                        f"{_format_loc(seen[name])})", loc)
                seen[name] = loc
        return self

    def all_codes(self) -> list[Code]:
        """Top-level codes followed by their sub-codes, depth first."""
        out: list[Code] = []
        for code in self.codes:
            out.append(code)
            out.extend(_flatten(code.subcodes))
        return out

    @property
    def code_names(self) -> list[str]:
        """Names of the top-level codes: the 0/1 and score columns of the segment table."""
        return [code.name for code in self.codes]

    @property
    def labels(self) -> dict[str, str]:
        """Norwegian label per code name (all levels)."""
        return {code.name: code.label for code in self.all_codes()}

    def code(self, name: str) -> Code:
        """The code with this name or alias (``økonomi`` finds ``okonomi``)."""
        wanted = name.strip().lower()
        for code in self.all_codes():
            if code.name == wanted or wanted in (alias.lower() for alias in code.aliases):
                return code
        raise KeyError(f"codebook {self.name!r} has no code {name!r}; it has {', '.join(self.code_names)}")

    @property
    def fingerprint(self) -> str:
        """A hash of the codebook's content, used to refuse models trained on another codebook."""
        payload = json.dumps(self.model_dump(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def _walk(codes: list[Code], path: tuple[Any, ...]) -> list[tuple[tuple[Any, ...], Code]]:
    """``(path, code)`` for every code, depth first, with the path as pydantic writes it (``codes[1].subcodes[0]``)."""
    out: list[tuple[tuple[Any, ...], Code]] = []
    for i, code in enumerate(codes):
        out.append(((*path, i), code))
        out.extend(_walk(code.subcodes, (*path, i, "subcodes")))
    return out


def _flatten(codes: list[Code]) -> list[Code]:
    out: list[Code] = []
    for code in codes:
        out.append(code)
        out.extend(_flatten(code.subcodes))
    return out


def load_codebook(path: str | Path | None = None) -> Codebook:
    """Load and validate a codebook; the default is qualkit's ``boligsosialt.yaml``."""
    path = Path(path) if path is not None else DEFAULT_CODEBOOK
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CodebookError(f"{path}: codebook file not found") from None
    except UnicodeDecodeError as error:
        raise CodebookError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    return parse_codebook(text, source=str(path))


def parse_codebook(text: str, source: str = "<codebook>") -> Codebook:
    """Validate codebook YAML given as text; errors name ``source``, the line and the field."""
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise CodebookError(f"{source}{where}: YAML syntax error: {problem}") from None
    if not isinstance(data, dict):
        raise CodebookError(f"{source}, line 1: a codebook must be a mapping with 'name', 'label' and 'codes'")
    try:
        return Codebook.model_validate(data)
    except ValidationError as error:
        lines = _line_index(node)
        messages = []
        for problem in error.errors():
            located = (problem.get("ctx") or {}).get("error")
            loc = tuple(problem["loc"]) + (located.loc if isinstance(located, _LocatedError) else ())
            field = _format_loc(loc)
            line = _closest_line(lines, loc)
            messages.append(f"{source}, line {line}, field {field}: {problem['msg']}")
        raise CodebookError("\n".join(messages)) from None


def _format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _line_index(node: yaml.Node | None, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], int]:
    """Map every path in the YAML tree to the 1-based line where its value starts."""
    if node is None:
        return {}
    lines = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            lines[(*path, key.value)] = key.start_mark.line + 1
            lines.update({p: n for p, n in _line_index(value, (*path, key.value)).items() if p != (*path, key.value)})
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines.update(_line_index(item, (*path, i)))
    return lines


def _closest_line(lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1
