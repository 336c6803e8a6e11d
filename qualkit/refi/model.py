"""A neutral, in-memory model of a REFI-QDA project, independent of qualkit's SQLite project.

Exporter and importer both work on :class:`RefiProject`; adapters (``qualkit.refi.adapters``) translate from and
to qualkit's corpora, codebooks and projects. Offsets are codepoint offsets into ``RefiSource.text``, which is
always qualkit-normalised (NFC, LF, no BOM).

GUIDs are upper-case canonical strings without braces (as in the spec's examples and in ATLAS.ti files).
GUIDs qualkit creates are ``uuid5`` of a qualkit id (:func:`stable_guid`), so the same project exported twice
gives the same GUIDs; imported GUIDs are kept (braces removed, upper-cased).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

#: Namespace of all uuid5 GUIDs qualkit derives; never change it, or GUIDs of earlier exports stop matching.
QUALKIT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/qualkit/qualkit/refi-qda")
#: Coders whose names start like this are machines; their codings are marked in exports (see docs/refi.md).
MODEL_PREFIXES = ("model:", "keywords:", "classifier:")


def stable_guid(kind: str, key: str) -> str:
    """A GUID that depends only on what it identifies (``kind`` such as ``source``, and a qualkit id)."""
    return str(uuid.uuid5(QUALKIT_NAMESPACE, f"{kind}:{key}")).upper()


def canonical_guid(value: str) -> str:
    """``{abcd-…}`` or ``abcd-…`` → ``ABCD-…``; raises ``ValueError`` for text that is not a GUID."""
    return str(uuid.UUID(value.strip().strip("{}"))).upper()


def is_model_coder(name: str) -> bool:
    return name.startswith(MODEL_PREFIXES)


@dataclass
class RefiUser:
    guid: str
    name: str


@dataclass
class RefiCode:
    guid: str
    name: str
    description: str = ""
    codable: bool = True
    color: str | None = None
    key: str = ""  # qualkit code name, if known
    children: list[RefiCode] = field(default_factory=list)
    #: qualkit's own fields of the code that REFI-QDA has no place for (keywords, examples, include, exclude, …;
    #: on one code also ``kodebok``: the codebook's name, version and fingerprint). Carried in the Description.
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class RefiCoding:
    guid: str
    code: str  # code GUID
    user: str | None = None  # user GUID
    created: str | None = None  # xsd:dateTime
    note: str | None = None  # note GUID (e.g. the model-coding marker)


@dataclass
class RefiSelection:
    guid: str
    start: int
    end: int
    name: str = ""
    description: str = ""
    user: str | None = None
    codings: list[RefiCoding] = field(default_factory=list)


@dataclass
class RefiVariable:
    guid: str
    name: str
    type: str = "Text"  # Text, Boolean, Integer, Float, Date, DateTime
    description: str = ""


@dataclass
class RefiSource:
    guid: str
    name: str
    text: str
    description: str = ""
    path: str = ""  # plainTextPath/richTextPath as found on import
    variables: dict[str, Any] = field(default_factory=dict)  # variable name → value
    selections: list[RefiSelection] = field(default_factory=list)


@dataclass
class RefiCase:
    guid: str
    name: str
    description: str = ""
    variables: dict[str, Any] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)  # source GUIDs


@dataclass
class RefiNote:
    guid: str
    name: str
    text: str
    targets: list[str] = field(default_factory=list)  # GUIDs of elements with a NoteRef to this note
    user: str | None = None  # GUID of the creating user


@dataclass
class RefiSet:
    guid: str
    name: str
    description: str = ""
    codes: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class ImportIssue:
    """One thing that could not be imported as is (REFI-QDA §7: report, never drop silently)."""

    element: str
    guid: str
    name: str
    reason: str
    imported: bool = False  # True: imported with a change (e.g. offsets mapped); False: left out


@dataclass
class RefiProject:
    name: str
    origin: str = "qualkit"
    description: str = ""
    users: list[RefiUser] = field(default_factory=list)
    codes: list[RefiCode] = field(default_factory=list)  # roots; children nested
    variables: list[RefiVariable] = field(default_factory=list)
    cases: list[RefiCase] = field(default_factory=list)
    sources: list[RefiSource] = field(default_factory=list)
    notes: list[RefiNote] = field(default_factory=list)
    sets: list[RefiSet] = field(default_factory=list)
    issues: list[ImportIssue] = field(default_factory=list)
    creating_user: str | None = None

    def all_codes(self) -> list[RefiCode]:
        """Codes depth first."""
        out: list[RefiCode] = []

        def walk(codes: list[RefiCode]) -> None:
            for code in codes:
                out.append(code)
                walk(code.children)

        walk(self.codes)
        return out

    def code_paths(self) -> dict[str, str]:
        """Code GUID → path of names from the root, ``Økonomi/Husleie``."""
        out: dict[str, str] = {}

        def walk(codes: list[RefiCode], prefix: str) -> None:
            for code in codes:
                out[code.guid] = prefix + code.name
                walk(code.children, prefix + code.name + "/")

        walk(self.codes, "")
        return out

    def user_names(self) -> dict[str, str]:
        return {user.guid: user.name for user in self.users}

    def issue(self, element: str, guid: str, name: str, reason: str, imported: bool = False) -> None:
        self.issues.append(ImportIssue(element, guid, name, reason, imported))
