"""qualkit: qualitative analysis of Norwegian focus-group, interview and workshop material."""

__version__ = "0.1.0"
