"""The ``qualkit`` command line: thin wrappers around the Python API."""

from qualkit.cli.main import app

__all__ = ["app"]
