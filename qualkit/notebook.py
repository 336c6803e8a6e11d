"""Coding in JupyterLab: the :class:`CodingView` widget and displaCy rendering of coded spans.

The widget's logic lives in plain methods (:meth:`CodingView.toggle`, :meth:`~CodingView.next`,
:meth:`~CodingView.save`, :meth:`~CodingView.command`, :attr:`~CodingView.state`), so it is tested without a
browser; the ipywidgets only call them. Every decision is written to the project at once (one transaction
each), so closing the notebook or a crashed kernel loses nothing that was shown as saved.

Keyboard use (plain ipywidgets has no global hotkeys or ``accesskey``): every button is an HTML button, so
Tab / Shift+Tab move between them and Space/Enter press them. For coding without the mouse, click once into
the *Tast* field and type commands followed by Enter: digits ``1``–``9`` toggle the code with that number
(shown on its button), ``n`` saves and goes to the next segment, ``p`` to the previous one, ``s`` saves,
``u`` undoes the last action. Commands combine: ``13n`` toggles codes 1 and 3 and moves on. The field keeps
the focus after Enter, so one can code a whole document from the keyboard.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from qualkit.codebook import Codebook
from qualkit.errors import ProjectError
from qualkit.project import Project

Suggester = Callable[[Mapping[str, Any]], Mapping[str, float]]
PALETTE = ["#7aecec", "#bfeeb7", "#feca74", "#ff9561", "#aa9cfc", "#c887fb", "#9cc9cc", "#ffeb80", "#e4e7d2"]
SUGGESTION_THRESHOLD = 0.5
_NEXT, _PREVIOUS, _SAVE, _UNDO = set("nj+>"), set("pk-<"), set("s"), set("u")


class CodingView:
    """Code the segments of a project one by one, as ``coder``.

    Shows the segment with its previous and next segment, speaker, kommune and document; the suggested codes
    with scores (from ``suggester(segment_row)`` if given, else from stored model codings, e.g. those of
    ``project.run_coder(KeywordCoder(...))``, optionally of one ``model`` coder); and a toggle per code with the
    codebook's Norwegian label. ``autosave`` (default): moving on with *Neste*/*Forrige* saves the decision
    on the segment left (codes not toggled on are recorded as not applied), like *Lagre og neste* elsewhere.
    The view starts at the first segment the coder has not reviewed.
    """

    def __init__(self, project: Project, coder: str, codebook: Codebook | None = None, unit: str | None = None,
                 suggester: Suggester | None = None, documents: Sequence[str] | None = None,
                 model: str | None = None, autosave: bool = True):
        self.project = project
        self.coder = coder
        self.codebook = codebook or project.codebook
        self.codes = list(self.codebook.code_names)
        self._shortcuts = {str(i + 1): c for i, c in enumerate(self.codes[:9])}  # keys 1–9
        self.labels = self.codebook.labels
        self.suggester = suggester
        self.model = model
        self.autosave = autosave
        self.segments = project.segments(unit, documents).reset_index(drop=True)
        if self.segments.empty:
            raise ProjectError(f"{project.path}: no segments of unit {unit or project.default_unit!r} to code; "
                               "run project.segment(...) first")
        self.position = 0
        self.applied: set[str] = set()
        self.reviewed = False
        self.message = ""
        self._updating = False
        self._widgets: dict[str, Any] | None = None
        reviewed = self._reviewed_ids()
        self.position = next((i for i, s in enumerate(self.segments["segment_id"]) if s not in reviewed), 0)
        self._load()

    # -- the logic (no widgets needed) --------------------------------------------------------------------
    @property
    def segment(self) -> dict[str, Any]:
        return self.segments.iloc[self.position].to_dict()

    @property
    def suggestions(self) -> dict[str, float]:
        row = self.segment
        if self.suggester is not None:
            scores = self.suggester(row)
        else:
            scores = self.project.suggestions(row["segment_id"], coder=self.model)
        return {code: float(scores[code]) for code in self.codes if code in scores}

    @property
    def state(self) -> dict[str, Any]:
        """What the view shows, as plain data."""
        row = self.segment
        return {
            "position": self.position, "total": len(self.segments), "segment_id": row["segment_id"],
            "document": row["document"], "kommune": row["kommune"], "speaker": row["speaker"], "text": row["text"],
            "applied": [c for c in self.codes if c in self.applied], "reviewed": self.reviewed,
            "suggestions": self.suggestions, "message": self.message,
        }

    def toggle(self, code: str) -> bool:
        """Switch a code on or off for the current segment and save that at once; returns the new state."""
        code = self.codebook.code(code).name
        return self.set(code, code not in self.applied)

    def set(self, code: str, on: bool) -> bool:
        code = self.codebook.code(code).name
        segment_id = self.segment["segment_id"]
        if on:
            self.project.code(segment_id, code, self.coder)
            self.applied.add(code)
        else:
            self.project.uncode(segment_id, code, self.coder)
            self.applied.discard(code)
        self.reviewed = True
        self.message = f"{'+' if on else '−'} {self.labels.get(code, code)} lagret"
        self._refresh()
        return on

    def save(self) -> None:
        """Record the full decision on the current segment: toggled codes apply, the others do not."""
        self.project.decide(self.segment["segment_id"], self.coder, self.applied)
        self.reviewed = True
        self.message = "Lagret"
        self._refresh()

    def next(self) -> bool:
        """Go to the next segment (saving this one first when ``autosave``); False at the last segment."""
        return self._move(self.position + 1)

    def previous(self) -> bool:
        return self._move(self.position - 1)

    def go_to(self, target: int | str) -> None:
        """Go to a position or a segment id (without saving)."""
        if isinstance(target, str):
            matches = self.segments.index[self.segments["segment_id"] == target]
            if len(matches) == 0:
                raise ProjectError(f"segment {target!r} is not among the segments of this view")
            target = int(matches[0])
        if not 0 <= target < len(self.segments):
            raise IndexError(f"position {target} is outside 0–{len(self.segments) - 1}")
        self.position = target
        self._load()

    def undo(self) -> None:
        """Undo the coder's last action (whatever segment it was on) and show the current segment again."""
        undone = self.project.undo(self.coder)
        self._load()
        self.message = "Angret" if undone else "Ingenting å angre"
        self._refresh()

    def command(self, keys: str) -> None:
        """Run keyboard commands: digits toggle codes, ``n`` next, ``p`` previous, ``s`` save, ``u`` undo."""
        unknown = []
        for key in keys.strip().lower():
            if key in self._shortcuts:
                self.toggle(self._shortcuts[key])
            elif key in _NEXT:
                self.next()
            elif key in _PREVIOUS:
                self.previous()
            elif key in _SAVE:
                self.save()
            elif key in _UNDO:
                self.undo()
            elif not key.isspace():
                unknown.append(key)
        if unknown:
            self.message = f"Ukjent tast: {''.join(unknown)} (1–{len(self._shortcuts)}, n, p, s, u)"
            self._refresh()

    def _move(self, target: int) -> bool:
        if self.autosave:
            self.save()
        if not 0 <= target < len(self.segments):
            self.message = "Siste segment" if target > 0 else "Første segment"
            self._refresh()
            return False
        self.position = target
        self._load()
        return True

    def _load(self) -> None:
        """Read the coder's decisions on the current segment from the project (the project is the truth)."""
        segment_id = self.segment["segment_id"]
        decisions = self.project.decisions(segment_id, self.coder)
        self.applied = {code for code, value in decisions.items() if value}
        self.reviewed = bool(decisions)
        self.message = ""
        self._refresh()

    def _reviewed_ids(self) -> set[str]:
        return self.project.reviewed_segments(self.coder)

    # -- the widgets --------------------------------------------------------------------------------------
    @property
    def widget(self):
        """The ipywidgets box (built on first use)."""
        if self._widgets is None:
            self._build()
            self._refresh()
        return self._widgets["box"]

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def _build(self) -> None:
        import ipywidgets as w

        header, context, suggestions, status = w.HTML(), w.HTML(), w.HTML(), w.HTML()
        buttons = {}
        shortcut = {code: key for key, code in self._shortcuts.items()}
        for code in self.codes:
            number = f"{shortcut[code]} " if code in shortcut else ""
            button = w.ToggleButton(description=f"{number}{self.labels.get(code, code)}",
                                    tooltip=self.codebook.code(code).definition.strip()[:300],
                                    layout=w.Layout(width="auto"))
            button.observe(lambda change, code=code: self._on_toggle(code, change), names="value")
            buttons[code] = button
        previous = w.Button(description="◀ Forrige", tooltip="Lagre og gå til forrige segment (p)")
        save = w.Button(description="Lagre", button_style="primary", tooltip="Lagre beslutningen (s)")
        following = w.Button(description="Neste ▶", tooltip="Lagre og gå til neste segment (n)")
        undo = w.Button(description="Angre", tooltip="Angre siste handling (u)")
        previous.on_click(lambda _: self.previous())
        save.on_click(lambda _: self.save())
        following.on_click(lambda _: self.next())
        undo.on_click(lambda _: self.undo())
        keys = w.Text(description="Tast", continuous_update=False,
                      placeholder=f"1–{len(self._shortcuts)} kode, n neste, p forrige, s lagre, u angre + Enter")
        keys.observe(self._on_keys, names="value")
        box = w.VBox([
            header, context, suggestions,
            w.HBox(list(buttons.values()), layout=w.Layout(flex_flow="row wrap")),
            w.HBox([previous, save, following, undo]), keys, status,
        ])
        self._widgets = {"box": box, "header": header, "context": context, "suggestions": suggestions,
                         "status": status, "buttons": buttons, "keys": keys, "previous": previous, "save": save,
                         "next": following, "undo": undo}

    def _on_toggle(self, code: str, change: Mapping[str, Any]) -> None:
        if not self._updating and bool(change["new"]) != (code in self.applied):
            self.set(code, bool(change["new"]))

    def _on_keys(self, change: Mapping[str, Any]) -> None:
        if self._updating or not change["new"]:
            return
        self.command(change["new"])
        self._updating = True
        try:
            self._widgets["keys"].value = ""
        finally:
            self._updating = False

    def _refresh(self) -> None:
        if self._widgets is None:
            return
        self._updating = True
        try:
            row = self.segment
            ws = self._widgets
            ws["header"].value = self._header_html(row)
            ws["context"].value = self._context_html()
            ws["suggestions"].value = _suggestions_html(self.suggestions, self.labels)
            for code, button in ws["buttons"].items():
                button.value = code in self.applied
                button.button_style = "success" if code in self.applied else ""
            ws["previous"].disabled = self.position == 0
            ws["next"].disabled = self.position == len(self.segments) - 1
            ws["status"].value = f"<small>{html.escape(self.message)}</small>"
        finally:
            self._updating = False

    def _header_html(self, row: Mapping[str, Any]) -> str:
        done = "✓ vurdert" if self.reviewed else "ikke vurdert"
        speaker = html.escape(row["speaker"] or "—")
        if row.get("role"):
            speaker += f" ({html.escape(row['role'])})"
        return (f"<b>{html.escape(row['kommune'])}</b> · {html.escape(row['document'])} · taler: {speaker} · "
                f"segment {self.position + 1} av {len(self.segments)} · {done} · koder: {html.escape(self.coder)}")

    def _context_html(self) -> str:
        parts = []
        for offset in (-1, 0, 1):
            i = self.position + offset
            if not 0 <= i < len(self.segments):
                continue
            row = self.segments.iloc[i]
            if offset and row["document"] != self.segment["document"]:
                continue
            speaker = f"<b>{html.escape(row['speaker'])}:</b> " if row["speaker"] else ""
            text = html.escape(row["text"])
            if offset == 0:
                parts.append(f"<div style='border-left:4px solid #2a7ab0;padding:4px 8px;margin:4px 0'>"
                             f"{speaker}{text}</div>")
            else:
                parts.append(f"<div style='color:#777;padding:2px 12px;font-size:90%'>{speaker}{_short(text)}</div>")
        return "".join(parts)


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def _suggestions_html(scores: Mapping[str, float], labels: Mapping[str, str]) -> str:
    if not scores:
        return "<small>Ingen forslag (ingen modellkoding lagret for segmentet)</small>"
    items = []
    for code, score in sorted(scores.items(), key=lambda item: -item[1]):
        weight = "bold" if score >= SUGGESTION_THRESHOLD else "normal"
        items.append(f"<span style='font-weight:{weight};margin-right:12px'>{html.escape(labels.get(code, code))} "
                     f"{score:.2f}</span>")
    return "<small>Forslag: </small>" + "".join(items)


# -- displaCy ---------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _blank_nb():
    import spacy

    return spacy.blank("nb")


def coded_doc(project: Project, document: str, coder: str | None = None, codes: Sequence[str] | None = None):
    """A spaCy ``Doc`` of the document's text with the applied codings in ``doc.spans["qualkit"]``.

    Span labels are the codebook's Norwegian labels (with the coder's name when ``coder`` is None and several
    coders are shown). Offsets are expanded to whole tokens (``alignment_mode="expand"``).
    """
    from spacy.tokens import Span

    text = project.document(document).text
    doc = _blank_nb()(text)
    labels = project.codebook.labels
    codings = project.codings(coder, applied_only=True)
    codings = codings[codings["document"] == document]
    if codes is not None:
        wanted = {project.codebook.code(c).name for c in codes}
        codings = codings[codings["code"].isin(wanted)]
    several = coder is None and codings["coder"].nunique() > 1
    spans: list[Span] = []
    for row in codings.itertuples(index=False):
        label = labels.get(row.code, row.code) + (f" ({row.coder})" if several else "")
        span = doc.char_span(int(row.start), int(row.end), label=label, alignment_mode="expand")
        if span is not None:
            spans.append(span)
    doc.spans["qualkit"] = spans
    return doc


def render_document(project: Project, document: str, coder: str | None = None, jupyter: bool | None = None,
                    codes: Sequence[str] | None = None) -> str:
    """Render a document with its coded spans highlighted by displaCy's span visualiser; returns the HTML.

    ``jupyter=None`` displays the HTML when running in a notebook; the HTML is returned in every case.
    """
    from spacy import displacy

    doc = coded_doc(project, document, coder, codes)
    colours = {}
    for i, code in enumerate(project.codebook.code_names):
        colour = PALETTE[i % len(PALETTE)]
        for span in doc.spans["qualkit"]:
            if span.label_.startswith(project.codebook.labels.get(code, code)):
                colours[span.label_] = colour
    options = {"spans_key": "qualkit", "colors": colours}
    rendered = displacy.render(doc, style="span", options=options, jupyter=False, page=False)
    if jupyter is None:
        from spacy.util import is_in_jupyter

        jupyter = is_in_jupyter()
    if jupyter:
        from IPython.display import HTML, display

        display(HTML(rendered))
    return rendered

