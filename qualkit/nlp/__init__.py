"""The Norwegian spaCy pipeline: load the best one installed.

Placeholder loader (to be replaced by the full loader of issue 3): a blank ``nb`` pipeline with a
sentencizer and lookup lemmas.
"""

from __future__ import annotations

from functools import lru_cache

import spacy
from spacy.language import Language


@lru_cache(maxsize=4)
def load() -> Language:
    """Return the Norwegian pipeline (cached)."""
    nlp = spacy.blank("nb")
    nlp.add_pipe("sentencizer")
    try:
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        nlp.initialize()
    except Exception:  # spacy-lookups-data missing
        pass
    return nlp
