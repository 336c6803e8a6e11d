"""Reliability between coders of a project: percent agreement, Cohen's κ, Krippendorff's α, disagreements.

The statistics come from :mod:`qualkit.agree`; this module only builds each coder's 0/1 table from the project.
A unit is a segment of the chosen segmentation unit. With ``scope='reviewed'`` (the default) a coder's value
on a segment counts only where the coder made a decision on it (a segment decision or an overlapping span), so
segments nobody looked at do not inflate agreement; ``scope='all'`` counts every segment, uncoded = 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from qualkit.agree import agreement_by_code, disagreements, krippendorff_alpha, pairwise_agreement
from qualkit.errors import ProjectError

if TYPE_CHECKING:
    from qualkit.project.store import Project

SCOPES = ("reviewed", "all")


@dataclass
class Agreement:
    """Agreement between coders on one unit.

    ``table``: one row per code plus ``overall`` (mean over codes), with units, percent_agreement, alpha and,
    for two coders, kappa. ``pooled_alpha``: α over every (segment, code) pair at once. ``pairwise``: the same
    per pair of coders. ``disagreements``: one row per segment and code on which the coders differ, with text.
    """

    coders: list[str]
    unit: str
    codes: list[str]
    table: pd.DataFrame
    pooled_alpha: float
    pairwise: pd.DataFrame
    disagreements: pd.DataFrame
    units: int

    def summary(self) -> dict[str, float]:
        overall = self.table.loc["overall"]
        out = {"units": self.units, "percent_agreement": float(overall["percent_agreement"]),
               "alpha": float(overall["alpha"]), "pooled_alpha": self.pooled_alpha}
        if "kappa" in overall:
            out["kappa"] = float(overall["kappa"])
        return out


def coder_matrix(project: Project, coder: str, codes: Sequence[str], unit: str | None = None,
                 documents: Sequence[str] | None = None, scope: str = "reviewed") -> pd.DataFrame:
    """One coder's 0/1 table indexed by segment_id (only reviewed segments with ``scope='reviewed'``)."""
    if scope not in SCOPES:
        raise ProjectError(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")
    table = project.coded_table(coder, unit=unit, documents=documents, scores=False)
    if scope == "reviewed":
        table = table[table["reviewed"]]
    return table.set_index("segment_id")[list(codes)].astype(int)


def agreement(project: Project, coders: Sequence[str], documents: Sequence[str] | None = None,
              unit: str | None = None, codes: Sequence[str] | None = None, scope: str = "reviewed") -> Agreement:
    """Agreement of two or more coders on the segments of ``unit`` in ``documents`` (default: all)."""
    coders = list(dict.fromkeys(coders))
    if len(coders) < 2:
        raise ProjectError("agreement needs at least two different coders")
    known = set(project.coders()["coder"])
    unknown = [c for c in coders if c not in known]
    if unknown:
        raise ProjectError(f"{project.path}: no coder(s) {', '.join(map(repr, unknown))}; "
                           f"coders are {', '.join(sorted(known)) or 'none'}")
    unit = unit or project.default_unit
    codes = [project.codebook.code(c).name for c in codes] if codes else project.codebook.code_names
    codings = {c: coder_matrix(project, c, codes, unit, documents, scope) for c in coders}
    table = agreement_by_code(codings, codes)
    segments = project.segments(unit, documents).set_index("segment_id")
    stacked = np.array([_stack(codings[c], codes, segments.index) for c in coders], dtype=float)
    differing = disagreements(codings, codes).rename(columns={"unit": "segment_id"})
    context = segments.loc[differing["segment_id"], ["document", "kommune", "speaker", "text"]].reset_index(drop=True)
    differing = pd.concat([differing.reset_index(drop=True), context], axis=1)
    common = set.intersection(*(set(frame.index) for frame in codings.values()))
    return Agreement(
        coders=coders, unit=unit, codes=list(codes), table=table, pooled_alpha=krippendorff_alpha(stacked),
        pairwise=pairwise_agreement(codings, codes), disagreements=differing, units=len(common),
    )


def _stack(frame: pd.DataFrame, codes: Sequence[str], index: pd.Index) -> np.ndarray:
    """A coder's values as one row over all (segment, code) pairs; NaN where the coder has no decision."""
    return frame.reindex(index)[list(codes)].to_numpy(dtype=float).ravel()
