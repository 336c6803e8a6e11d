"""``qualkit nlp ...``: train and inspect the Norwegian pipeline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Train and inspect the Norwegian spaCy pipeline.", no_args_is_help=True)

DataOpt = Annotated[Path, typer.Option("--data", help="NorNE directory with ndt/ and ud/, e.g. ../shared/data/norne.")]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Where to save the pipeline (default: bundled location).")]
StepsOpt = Annotated[int | None, typer.Option("--max-steps", help="Override stage 1's training.max_steps.")]
TuneOpt = Annotated[int, typer.Option("--finetune-steps", help="Optional stage 2 (recipe/finetune.cfg) steps.")]
EvalOpt = Annotated[int | None, typer.Option("--eval-frequency", help="Override training.eval_frequency.")]
WorkOpt = Annotated[Path, typer.Option("--work-dir", help="Scratch space (DocBins, training runs).")]
ModelArg = Annotated[Path, typer.Argument(help="Trained pipeline dir, e.g. /tmp/qualkit-nlp/stage1/model-best.")]


@app.command()
def train(
    data: DataOpt,
    out: OutOpt = None,
    max_steps: StepsOpt = None,
    finetune_steps: TuneOpt = 0,
    eval_frequency: EvalOpt = None,
    work_dir: WorkOpt = Path("/tmp/qualkit-nlp"),
    select_on_dev: Annotated[bool, typer.Option(
        "--select-on-dev", help="Development run: train files only, model-best by the dev score "
        "(default: the final run on train + dev files, 10,000 steps, as shipped).")] = False,
) -> None:
    """Convert NDT/NorNE, train the Bokmål + Nynorsk pipeline, evaluate it and save it."""
    from qualkit.nlp import BUNDLED_PIPELINE
    from qualkit.nlp.train import train as run_training

    if not (data / "ndt").is_dir():
        typer.echo(f"error: {data}: no ndt/ directory (expected the NorNE data)", err=True)
        raise typer.Exit(code=2)
    path = run_training(
        data,
        out or BUNDLED_PIPELINE,
        work_dir=work_dir,
        max_steps=max_steps,
        finetune_steps=finetune_steps,
        eval_frequency=eval_frequency,
        select_on_dev=select_on_dev,
    )
    typer.echo(f"saved pipeline to {path}")


@app.command()
def finalize(
    model: ModelArg,
    data: DataOpt,
    out: OutOpt = None,
) -> None:
    """Evaluate a trained pipeline, write its accuracy into meta.json and save it (no training)."""
    from qualkit.nlp import BUNDLED_PIPELINE
    from qualkit.nlp.train import finalize as run_finalize

    typer.echo(f"saved pipeline to {run_finalize(model, data, out or BUNDLED_PIPELINE)}")


@app.command()
def info() -> None:
    """Show which pipeline ``qualkit.nlp.load()`` picks and its accuracy figures."""
    from qualkit.nlp import load, pipeline_info

    typer.echo(json.dumps(pipeline_info(load()), indent=2, ensure_ascii=False))
