"""Top-level ``qualkit`` app."""

import typer

from qualkit.cli import nlp_cmd

app = typer.Typer(help="qualkit: kvalitativ analyse av norske fokusgrupper, intervjuer og workshopnotater.",
                  no_args_is_help=True)
app.add_typer(nlp_cmd.app, name="nlp")
