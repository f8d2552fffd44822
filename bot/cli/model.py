"""``quotedesk model build``: build the ONNX encoder's model into the data directory ahead of
its first use (at release time, say), rather than on the first question or ingest; ``quotedesk
model prune``: remove the builds no current recipe uses (:mod:`retrieval.model_cache`)."""

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

    A model already built is only checked. The torch backend needs no build. Then the builds
    of older recipes that no process uses are removed (see prune).
    """
    from retrieval.embedder import load_encoder
    from retrieval.settings import Settings

    with common.user_errors():
        settings = Settings.resolve(data_dir=data_dir, encoder=encoder)
        settings.ensure_data_dir()
        if settings.encoder == "torch":
            click.echo("the torch encoder needs no build")
        else:
            loaded = load_encoder(
                settings.model_path, backend=settings.encoder, models=settings.models_dir
            )
            click.echo(f"{loaded.name}: ready in {getattr(loaded, 'built', settings.data_dir)}")
        # Processes of the release before may still run (a rolling release): only builds
        # this release's processes marked as theirs, and no longer hold, are removed.
        _prune(settings.model_path, settings.models_dir)


@model.command()
@click.option(
    "--all-models",
    is_flag=True,
    help="Also remove the builds of other models (other data dirs sharing the cache may use "
    "them: they are built again).",
)
@common.data_dir_option
def prune(all_models: bool, data_dir: Path | None) -> None:
    """Remove the ONNX encoder builds no current recipe uses, and what unfinished builds left.

    A build a running process uses is kept. So is one being built. Builds of older releases
    that no process of this one used are removed too: run this when no process of an older
    release runs.
    """
    from retrieval.settings import Settings

    with common.user_errors():
        settings = Settings.resolve(data_dir=data_dir)
        models = settings.models_dir
        if not _prune(settings.model_path, models, other_models=all_models, unmarked=True):
            click.echo(f"nothing to remove in {models}")


def _prune(
    model_path: str | None, models: Path, *, other_models: bool = False, unmarked: bool = False
) -> list[Path]:
    """Remove the builds under ``models`` no current recipe uses; name each one removed."""
    from retrieval import model_cache
    from retrieval.embedder import model_caches

    current = model_caches(model_path, models)
    removed = model_cache.prune(models, current, other_models=other_models, unmarked=unmarked)
    for path in removed:
        click.echo(f"removed {path}")
    return removed
