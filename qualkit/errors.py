"""qualkit's exceptions, in one place.

Every message names what is wrong and where (file, line, field), so that a user can fix it without reading
the code. The CLI prints ``str(error)`` as a one-line (or few-line) message and goes on where it can.
"""

from __future__ import annotations


class QualkitError(Exception):
    """Base class of all errors qualkit raises on purpose."""


class CodebookError(QualkitError, ValueError):
    """A codebook file is missing, is not valid YAML, or does not follow the codebook schema."""


class IngestError(QualkitError, ValueError):
    """A source file cannot be read or lacks what qualkit needs (text, kommune)."""

    def __init__(self, path: object, reason: str, line: int | None = None):
        self.path = str(path)
        self.reason = reason
        self.line = line
        where = f"{self.path}, line {line}" if line else self.path
        super().__init__(f"{where}: {reason}")


class KommuneError(QualkitError, ValueError):
    """A municipality name or number that is not in the register."""


class ModelError(QualkitError, ValueError):
    """A saved model that does not fit this codebook or this version of qualkit."""


class ProjectError(QualkitError, ValueError):
    """A project file that cannot be opened, is from a newer qualkit, or an operation it cannot do."""


class RefiError(QualkitError, ValueError):
    """A REFI-QDA file (.qdpx, .qdc) that is unsafe, malformed, or cannot be written."""
