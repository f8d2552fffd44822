"""``quotedesk model build``: build the ONNX encoder's model into the data directory ahead of
its first use (at release time, say), rather than on the first question or ingest."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli import common
from retrieval.settings import DEFAULT_ENCODER, ENCODERS


@click.group()
def model() -> None:
    """The sentence encoder's model (QUOTEDESK_ENCODER picks the backend)."""


@model.command()
@click.option(
    "--encoder",
    metavar="|".join(ENCODERS),
    default=None,
    help=f"The backend to build for (env QUOTEDESK_ENCODER).  [default: {DEFAULT_ENCODER}]",
)
@common.data_dir_option
def build(encoder: str | None, data_dir: Path | None) -> None:
    """Build the ONNX encoder from the model (once; torch exports it) and load it to check.

    A model already built is only checked. The torch backend needs no build.
    """
    from retrieval.embedder import load_encoder
    from retrieval.settings import Settings

    with common.user_errors():
        settings = Settings.resolve(data_dir=data_dir, encoder=encoder)
        settings.ensure_data_dir()
        if settings.encoder == "torch":
            click.echo("the torch encoder needs no build")
            return
        loaded = load_encoder(
            settings.model_path, backend=settings.encoder, models=settings.models_dir
        )
    click.echo(f"{loaded.name}: ready in {getattr(loaded, 'built', settings.data_dir)}")
