"""Reproducible training recipe for the bundled pipeline ``nb_qualkit_core``.

``train(data_dir)`` runs the whole recipe:

1. convert NDT (Bokmål + Nynorsk) to spaCy DocBins with the file split in
   ``qualkit/data/pipeline/recipe/splits.json`` (``convert.convert``);
2. train with ``recipe/config.cfg`` (``spacy train``; constant learning rate). The shipped pipeline
   is the *final* run: trained on the NDT train **and dev** files for ``FINAL_STEPS`` steps (the step
   count at which the dev score peaked when the recipe was developed), ``model-last`` kept.
   ``select_on_dev=True`` is the development run: train files only, ``model-best`` by the dev score
   (and optionally fine-tuned with ``recipe/finetune.cfg``: warm-up + linear decay);
3. evaluate on the UD dev and test files, write the figures into ``meta.json`` and save the pipeline
   to ``qualkit/data/pipeline/nb_qualkit_core/`` (``finalize``). After a final run the dev figures
   are on training material; only the test figures measure the pipeline.

Step 3 can be run on its own (``finalize``), e.g. after stopping a long run: spaCy saves
``model-best`` at every evaluation that improves the dev score, and ``model-last`` at the end.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import spacy
from spacy.language import Language

from qualkit.nlp import BUNDLED_PIPELINE, variety
from qualkit.nlp.convert import RECIPE_DIR, convert, mapping_agreement
from qualkit.nlp.evaluate import evaluate

CONFIG = RECIPE_DIR / "config.cfg"
FINETUNE_CONFIG = RECIPE_DIR / "finetune.cfg"
WORK_DIR = Path("/tmp/qualkit-nlp")
PIPELINE_NAME = "qualkit_core"
VERSION = "0.1.0"
LEMMATIZER_TOP_K = 3
FINAL_STEPS = 10_000
"""Steps of the final run on train + dev: the dev score of the train-only run peaked at step 10,000 of 12,000."""


@spacy.registry.callbacks("qualkit.restore_tree2label.v1")
def restore_tree2label() -> Callable[[Language], Language]:
    """``[initialize] after_init`` callback for fine-tuning a sourced ``trainable_lemmatizer``.

    spaCy 3.8's ``EditTreeLemmatizer.from_disk`` restores the trees and labels but not the
    ``tree2label`` index used by ``get_loss``, so every gold tree maps to label 0 and further
    training destroys the lemmatizer.  Rebuild the index from the labels.
    """

    def after_init(nlp: Language) -> Language:
        for name, component in nlp.components:  # incl. disabled: sourced ones are, during initialize
            if name == "trainable_lemmatizer" and not component.tree2label:
                component.tree2label.update({tree: label for label, tree in enumerate(component.labels)})
        return nlp

    return after_init


def train(
    data_dir: Path | str,
    output_dir: Path | str = BUNDLED_PIPELINE,
    *,
    work_dir: Path | str = WORK_DIR,
    config: Path | str = CONFIG,
    finetune_config: Path | str = FINETUNE_CONFIG,
    max_steps: int | None = None,
    finetune_steps: int = 0,
    eval_frequency: int | None = None,
    overrides: dict | None = None,
    select_on_dev: bool = False,
) -> Path:
    """Convert, train (stage 1 + fine-tuning stage 2), evaluate and save to ``output_dir``.

    By default the final run: NDT train + dev files, ``FINAL_STEPS`` steps (or ``max_steps``), ``model-last``.
    ``select_on_dev``: the development run — train files only, ``model-best`` by the dev score (compare recipe
    variants this way; the final run has no held-out dev data left).

    data_dir: the NorNE directory (with ``ndt/`` and ``ud/``).  work_dir: scratch space for the
    DocBins and the spaCy training output (``stage1/``, ``output/``).  max_steps / eval_frequency /
    overrides: override stage 1's config (``overrides`` uses spaCy's dotted keys, e.g.
    ``{"components.tok2vec.model.encode.width": 128}``).  finetune_steps: optional stage 2 — continue
    from stage 1's ``model-best`` with ``finetune_config`` for this many steps, the learning rate
    decaying linearly to 0 (0 = no stage 2; the shipped model has none: a 4,000-step stage 2 did not
    improve UD dev).
    """
    from spacy.cli.train import train as spacy_train

    data_dir, work_dir = Path(data_dir), Path(work_dir)
    if not (data_dir / "ndt").is_dir():
        raise FileNotFoundError(f"{data_dir}: no ndt/ directory (expected the NorNE data)")
    corpus = convert(data_dir, work_dir / "corpus")
    train_data = corpus["train"] if select_on_dev else _train_and_dev(corpus, work_dir / "corpus-final")
    if not select_on_dev and max_steps is None:
        max_steps = FINAL_STEPS
    paths = {"paths.train": str(train_data), "paths.dev": str(corpus["dev"])}
    stage1 = {**paths, **(overrides or {})}
    if max_steps is not None:
        stage1["training.max_steps"] = max_steps
    if eval_frequency is not None:
        stage1["training.eval_frequency"] = eval_frequency
    start = time.perf_counter()
    stage1_dir = work_dir / "stage1"
    spacy_train(Path(config), output_path=stage1_dir, overrides=stage1)
    best = stage1_dir / ("model-best" if select_on_dev else "model-last")
    settings: dict = {"data": "NDT train files" if select_on_dev else "NDT train + dev files", "stage1": stage1}
    if finetune_steps > 0:
        stage2 = {
            **paths,
            "paths.source": str(best),
            "training.max_steps": finetune_steps,
            "training.optimizer.learn_rate.total_steps": finetune_steps,
        }
        if eval_frequency is not None:
            stage2["training.eval_frequency"] = eval_frequency
        spacy_train(Path(finetune_config), output_path=work_dir / "output", overrides=stage2)
        best = work_dir / "output" / best.name  # model-best only when the dev files are held out
        settings["stage2"] = stage2
    minutes = (time.perf_counter() - start) / 60
    return finalize(best, data_dir, output_dir, training={"minutes": round(minutes, 1), **_jsonable(settings)})


def _train_and_dev(corpus: dict[str, Path], directory: Path) -> Path:
    """A directory holding the train and dev DocBins (spaCy's corpus reader reads every .spacy file in it)."""
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    for split in ("train", "dev"):
        shutil.copy(corpus[split], directory / f"{split}.spacy")
    return directory


def finalize(
    model_dir: Path | str, data_dir: Path | str, output_dir: Path | str = BUNDLED_PIPELINE, training: dict | None = None
) -> Path:
    """Evaluate ``model_dir`` on UD dev/test, write accuracy into meta.json and save to ``output_dir``."""
    # top_k: if the best edit tree does not apply (e.g. a rare capitalised form, "Boligene"), try
    # the next ones before backing off to the form.  Inference-only setting.
    nlp = spacy.load(model_dir, config={"components": {"trainable_lemmatizer": {"top_k": LEMMATIZER_TOP_K}}})
    # Evaluated as qualkit.nlp.load() runs it: with the Bokmål/Nynorsk lemma harmonisation, which is
    # added at load time (not saved, so that the directory loads with plain spacy.load too).
    variety.add_to(nlp)
    results = {split: evaluate(nlp, data_dir, split) for split in ("dev", "test")}
    nlp.remove_pipe("qualkit_variety")
    _write_meta(nlp, results, mapping_agreement(data_dir), training or {})
    output_dir = Path(output_dir)
    if output_dir.exists():
        shutil.rmtree(output_dir)
    nlp.to_disk(output_dir)
    return output_dir


def _write_meta(nlp: Language, results: dict, agreement: dict, training: dict) -> None:
    bokmaal_test = results["test"]["nob"]
    meta = nlp.meta
    meta.update(
        lang="nb",
        name=PIPELINE_NAME,
        version=VERSION,
        description=(
            "Norwegian Bokmål + Nynorsk pipeline for qualkit: tok2vec (hash-embed CNN, no vectors), "
            "morphologizer (UPOS + UD features), trainable lemmatizer, senter, ner (NorNE types). "
            "qualkit.nlp.load() adds 'qualkit_variety' (Bokmål/Nynorsk detection + lemma harmonisation). "
            "Trained on the Norwegian Dependency Treebank with NorNE entities, NDT tags mapped to UD."
        ),
        author="qualkit",
        license="CC0-1.0 (annotations: NDT/NorNE); trained weights only, no texts included",
        sources=[
            {
                "name": "Norwegian Dependency Treebank (NDT)",
                "url": "https://www.nb.no/sprakbanken/",
                "license": "CC0 1.0",
            },
            {"name": "NorNE", "url": "https://github.com/ltgoslo/norne", "license": "CC0 1.0"},
        ],
    )
    # spaCy convention: headline figures on the UD Bokmål test set, as fractions.
    meta["performance"] = {
        k: (None if v is None else round(v / 100, 4)) for k, v in bokmaal_test.items() if k != "ents_per_type"
    }
    meta["performance"]["ents_per_type"] = bokmaal_test.get("ents_per_type", {})
    meta["qualkit_benchmark"] = {
        "note": "percent; UD Bokmål (nob) / Nynorsk (nno) dev and test (NorNE edition), docs of 10 sentences",
        "scores": results,
        "ndt_to_ud_mapping_agreement_dev": agreement,
        "training": training,
    }


def _jsonable(settings: dict) -> dict:
    return json.loads(json.dumps(settings, default=str))
