"""``qualkit nlp ...``: train and inspect the Norwegian pipeline."""

import typer

app = typer.Typer(help="Train and inspect the Norwegian spaCy pipeline.", no_args_is_help=True)
