"""The sentence encoder on ONNX Runtime: the same model as
:class:`~retrieval.embedder.TorchEncoder`, run without torch (imports onnxruntime, tokenizers
and numpy only).

The ONNX model is built from the sentence-transformers folder on first use (torch exports it,
in :mod:`retrieval.onnx_export`; some seconds, once) and cached in the data directory:
``<data dir>/models/<model>-<precision>-<digest>/`` holds ``model.onnx``, ``tokenizer.json``
and ``encoder.json`` (what was built, from what, and the model file's SHA-256). The digest
covers the source model's files and the build recipe, so another model or recipe builds
another folder. A folder is built under a temporary name and renamed into place whole; a file
lock lets one process build while others wait for it. A cached model that is missing, fails
its checksum or has an unreadable manifest is rebuilt (with a warning in the log). An encoder
holds a shared lock on its folder while it lives, and after a build the folders of older
recipes that no process holds are removed (:mod:`retrieval.model_cache`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
from tokenizers import Tokenizer

from retrieval import model_cache, offline
from retrieval.errors import ModelNotFoundError
from retrieval.settings import available_cores

log = logging.getLogger(__name__)

# What each ONNX backend runs: the exported model as is, or its int8 quantization.
PRECISIONS = {"onnx": "fp32", "onnx-int8": "int8"}
# Change when the export or the quantization changes: caches are rebuilt, and as the encoder's
# name carries it, the next ingest re-encodes the corpus.
RECIPE = "1"
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST_FILE = "encoder.json"
# Source files up to this size are hashed by content, larger ones (the weights) by name, size
# and modification time, each time; the content digest of the whole folder is then remembered
# per such signature (``models/sources/``), so a reinstalled package does not rebuild.
_SMALL_FILE = 1 << 20
# Passages per forward pass after sorting by length: on two cores, 32 and 64 took the same CPU
# time per passage on rtqa-2022's paragraphs, 128 some 10% more.
BATCH_SIZE = 64
# Texts whose vectors the build compares with torch's (cosine of each, at least this much).
CHECK_TEXTS = (
    "Why did Baku skip the Washington meeting?",
    "The ministry said the talks would resume next week in Geneva.",
    "Shares fell 4% after the company cut its forecast for the year.",
    "",
)
CHECK_COSINE = {"fp32": 0.9999, "int8": 0.95}


@dataclass(frozen=True)
class ModelSpec:
    """What the sentence-transformers folder says about encoding with it."""

    dimension: int
    max_tokens: int
    pooling: str  # "mean" or "cls"
    lower_case: bool


def read_spec(folder: Path) -> ModelSpec:
    """The pooling, length and size of the sentence-transformers model in ``folder``.

    Raises:
        ModelNotFoundError: The folder holds modules the ONNX backends do not run (anything
            but a transformer, a mean or CLS pooling and a normalization), or no
            ``tokenizer.json``.
    """
    try:
        modules = json.loads((folder / "modules.json").read_text())
        config = json.loads((folder / "config.json").read_text())
        st_config = _json_or_empty(folder / "sentence_bert_config.json")
        kinds = [str(m["type"]).rsplit(".", 1)[-1] for m in modules]
        pooling_dir = next(
            (m.get("path", "") for m in modules if str(m["type"]).endswith(".Pooling")), None
        )
        pooling = _json_or_empty(folder / pooling_dir / "config.json") if pooling_dir else {}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelNotFoundError(
            f"cannot read the model's configuration in {folder}: {exc}"
        ) from exc
    modes = {k for k, v in pooling.items() if k.startswith("pooling_mode_") and v}
    mode = {frozenset({"pooling_mode_mean_tokens"}): "mean"}.get(frozenset(modes))
    mode = mode or {frozenset({"pooling_mode_cls_token"}): "cls"}.get(frozenset(modes))
    if kinds[:2] != ["Transformer", "Pooling"] or set(kinds[2:]) - {"Normalize"} or not mode:
        raise ModelNotFoundError(
            f"the model in {folder} ({' + '.join(kinds)}, pooling {sorted(modes)}) is not one the "
            "ONNX encoder runs (a transformer, mean or CLS pooling, normalization): "
            "set QUOTEDESK_ENCODER=torch"
        )
    if not (folder / TOKENIZER_FILE).is_file():
        raise ModelNotFoundError(
            f"the model in {folder} has no {TOKENIZER_FILE}: set QUOTEDESK_ENCODER=torch"
        )
    dimension = pooling.get("word_embedding_dimension") or config.get("hidden_size")
    if not isinstance(dimension, int):
        raise ModelNotFoundError(f"the model in {folder} does not say its dimension")
    return ModelSpec(
        dimension=int(dimension),
        max_tokens=int(st_config.get("max_seq_length") or 256),
        pooling=mode,
        lower_case=bool(st_config.get("do_lower_case", False)),
    )


def model_dir(folder: Path, models: Path, backend: str, *, label: str | None = None) -> Path:
    """Where ``backend``'s model built from ``folder`` lives under ``models``."""
    precision = PRECISIONS[backend]
    # The model is saved as ONNX Runtime optimized it (its fused operators): per its version.
    key = f"{RECIPE}\n{precision}\n{_runtime_version()}\n{source_digest(folder, models)}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", label or folder.name).strip(".-")[:40] or "model"
    return models / f"{slug}-{precision}-{digest}"


def recipe_dirs(folder: Path, models: Path, *, label: str | None = None) -> list[Path]:
    """The folders this release builds from ``folder`` under ``models``: one per backend."""
    return [model_dir(folder, models, backend, label=label) for backend in PRECISIONS]


def source_digest(folder: Path, models: Path) -> str:
    """A digest of the model files' contents, remembered per name/size/mtime signature."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not _skipped(p, folder))
    signature = hashlib.sha256(f"{folder.resolve()}\0".encode())
    for path in files:
        stat = path.stat()
        signature.update(f"{path.relative_to(folder)}\0{stat.st_size}\0".encode())
        if stat.st_size <= _SMALL_FILE:
            signature.update(path.read_bytes())
        else:
            signature.update(f"{stat.st_mtime_ns}\0".encode())
    memo = models / "sources" / signature.hexdigest()[:32]
    with contextlib.suppress(OSError):
        known = memo.read_text().strip()
        if re.fullmatch(r"[0-9a-f]{64}", known):
            return known
    content = hashlib.sha256()
    for path in files:
        content.update(f"{path.relative_to(folder)}\0".encode())
        with path.open("rb") as handle:
            content.update(hashlib.file_digest(handle, "sha256").digest())
    digest = content.hexdigest()
    with contextlib.suppress(OSError):
        memo.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(memo, digest.encode())
    return digest


class DamagedModelError(ModelNotFoundError):
    """A cached ONNX model cannot be read or does not match its checksum (rebuilt on load)."""


def load(
    folder: Path,
    models: Path,
    backend: str,
    *,
    name: str,
    label: str | None = None,
    announce: Callable[[str], None] | None = None,
) -> OnnxEncoder:
    """The ``backend`` encoder of the model in ``folder``, built into ``models`` if need be
    (and rebuilt when the cached file is damaged).

    Raises:
        ModelNotFoundError: The model cannot be exported (see :func:`read_spec`), or the
            export fails its check against torch.
    """
    offline.prepare()  # before a tokenizer runs (and, to build, transformers is imported)
    built = ensure_model(folder, models, backend, label=label, announce=announce)
    # Held while the encoder lives: a prune (by a process configured for another model or
    # recipe) leaves the folder alone. Taken after the check, so checked once more: a prune
    # may have removed the folder in between, and it is built again then.
    in_use = model_cache.hold(built)
    if _problem(built) is not None:
        built = ensure_model(folder, models, backend, label=label, announce=announce)
    try:
        encoder = OnnxEncoder(built, name=name)
    except DamagedModelError as exc:
        log.warning("the cached ONNX encoder is damaged (%s): rebuilding it", exc)
        built = ensure_model(folder, models, backend, label=label, announce=announce, verify=True)
        encoder = OnnxEncoder(built, name=name)
    encoder.in_use = in_use
    return encoder


def ensure_model(
    folder: Path,
    models: Path,
    backend: str,
    *,
    label: str | None = None,
    announce: Callable[[str], None] | None = None,
    verify: bool = False,
) -> Path:
    """The built model folder for ``backend`` from ``folder``, building it if need be.

    Args:
        folder: The sentence-transformers folder.
        models: The cache (``<data dir>/models``).
        backend: ``onnx`` or ``onnx-int8``.
        label: Names the folder (the model's name; ``folder``'s name by default).
        announce: Told one line when a build starts (default: standard error).
        verify: Check the model file's checksum too (else its presence and manifest).

    Raises:
        ModelNotFoundError: The model cannot be exported (see :func:`read_spec`), or the
            export fails its check against torch.
    """
    spec = read_spec(folder)
    target = model_dir(folder, models, backend, label=label)
    if not verify and _problem(target) is None:
        return target
    try:
        models.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelNotFoundError(f"cannot create {models}: {exc.strerror}") from exc
    with _locked(model_cache.build_lock_file(target)):
        # Another process may have built it while this one waited for the lock.
        problem = _problem(target, verify=verify)
        if problem is None:
            return target
        if target.exists():
            log.warning("rebuilding the ONNX encoder in %s: %s", target, problem)
        (announce or _to_stderr)(
            f"building the ONNX encoder ({backend}) from {folder} into {target}, once "
            "(some seconds)"
        )
        _build(folder, target, backend, spec)
    # A cheap moment to remove what older recipes built (a new one was just needed).
    prune_stale(folder, models, label=label)
    return target


def prune_stale(folder: Path, models: Path, *, label: str | None = None) -> list[Path]:
    """Remove the folders under ``models`` of the model in ``folder`` that no backend of this
    release builds, and what unfinished builds left, unless a process uses them (see
    :func:`retrieval.model_cache.prune`); never fails.

    Returns:
        The folders removed.
    """
    try:
        current = {path.name for path in recipe_dirs(folder, models, label=label)}
        return model_cache.prune(models, current)
    except OSError as exc:
        log.warning("cannot remove stale ONNX encoder caches from %s: %s", models, exc)
        return []


class OnnxEncoder:
    """Encodes passages and questions with an ONNX model built by :func:`ensure_model`.

    Args:
        built: The built model folder (``model.onnx``, ``tokenizer.json``, ``encoder.json``).
        name: The encoder's name (in the ingest recipe: another name re-encodes the corpus).
        threads: Intra-op threads for batches of texts; the cores this process may use when
            omitted. A single text runs on one thread.
        batch_size: Texts per forward pass, after sorting by length.
    """

    def __init__(
        self,
        built: Path,
        *,
        name: str,
        threads: int | None = None,
        batch_size: int = BATCH_SIZE,
    ):
        try:
            manifest = json.loads((built / MANIFEST_FILE).read_text())
            spec = ModelSpec(**manifest["spec"])
            model = (built / MODEL_FILE).read_bytes()
            tokenizer = Tokenizer.from_file(str(built / TOKENIZER_FILE))
        except Exception as exc:  # tokenizers raises plain Exceptions
            raise DamagedModelError(f"cannot read the model in {built}: {exc}") from exc
        if hashlib.sha256(model).hexdigest() != manifest.get("sha256"):
            raise DamagedModelError(f"{built / MODEL_FILE} does not match its checksum")
        self.name = name
        self.built = built
        # The shared lock on ``built`` (model_cache.hold), kept open while this encoder lives.
        self.in_use: IO[bytes] | None = None
        self.dimension = spec.dimension
        self.max_tokens = spec.max_tokens
        self.batch_size = batch_size
        self._spec = spec
        # This one cuts texts at the model's length as sentence-transformers does; padding is
        # done per batch below. Counting reads whole texts with another (made on first use).
        self._tokenizer = tokenizer
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(spec.max_tokens)
        self._counter: Any = None
        self._pad_id = int(manifest.get("pad_id", 0))
        self._threads = threads or available_cores()
        self._lock = threading.Lock()
        # A single text (a question) runs on a session of its own with one thread: a question's
        # few dozen word pieces take 6 ms there against 4 on two threads, but two threads
        # spinning after the run slowed every later step of the answer, and at a million
        # passages the other core runs the BM25 search meanwhile (22.9 ms an answer against
        # 19.6). Made now, so that a damaged model is told at once; the batch session is made
        # on first use (an ingest).
        self._single = self._open(model, 1)
        self._batch: Any = self._single if self._threads == 1 else None
        self._inputs = [i.name for i in self._single.get_inputs()]

    def _open(self, model: bytes | str, threads: int) -> Any:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        try:
            return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime's own error types are not exported
            raise ModelNotFoundError(f"cannot load {self.built / MODEL_FILE}: {exc}") from exc

    def _batch_session(self) -> Any:
        with self._lock:
            if self._batch is None:
                # From the file, checked when this encoder was made: its bytes are not kept.
                self._batch = self._open(str(self.built / MODEL_FILE), self._threads)
            return self._batch

    def count_tokens(self, text: str) -> int:
        """Word pieces in ``text``, without the special tokens."""
        counter = self._counter
        if counter is None:
            counter = Tokenizer.from_str(self._tokenizer.to_str())
            counter.no_truncation()
            self._counter = counter
        return len(counter.encode(self._text(text), add_special_tokens=False).ids)

    def encode(
        self, texts: Sequence[str], *, progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Encode ``texts`` as float32 unit vectors; ``progress`` hears of each finished batch.

        Texts are sorted by length into batches (less padding), then put back in order.
        """
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch([self._text(t) for t in texts])
        lengths = np.array([len(e.ids) for e in encodings])
        order = np.argsort(-lengths, kind="stable")
        for start in range(0, len(texts), self.batch_size):
            rows = order[start : start + self.batch_size]
            width = int(lengths[rows[0]])
            ids = np.full((len(rows), width), self._pad_id, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for i, row in enumerate(rows):
                n = int(lengths[row])
                ids[i, :n] = encodings[row].ids
                mask[i, :n] = 1
            out[rows] = self.vectors(ids, mask, single=len(texts) == 1)
            if progress:
                progress(len(rows))
        return out

    def encode_query(self, text: str) -> np.ndarray:
        """One question as a ``(1, dimension)`` float32 unit vector."""
        return self.encode([text])

    def vectors(self, ids: np.ndarray, mask: np.ndarray, *, single: bool = False) -> np.ndarray:
        """Unit sentence vectors of padded token ids and their attention mask (``single``: on
        the one-thread session)."""
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        session = self._single if single else self._batch_session()
        hidden = session.run(None, {name: feeds[name] for name in self._inputs})[0]
        return pool(hidden, mask, self._spec.pooling)

    def _text(self, text: str) -> str:
        # sentence-transformers strips each text (and lowercases it when the model says so).
        text = str(text).strip()
        return text.lower() if self._spec.lower_case else text


def pool(hidden: np.ndarray, mask: np.ndarray, pooling: str) -> np.ndarray:
    """Mean (over the attention mask) or CLS pooling, then L2 normalization, as float32."""
    if pooling == "cls":
        vectors = hidden[:, 0, :].astype(np.float32)
    else:
        weights = mask.astype(np.float32)
        vectors = np.matmul(weights[:, None, :], hidden.astype(np.float32))[:, 0, :]
        vectors /= np.clip(weights.sum(axis=1, keepdims=True), 1e-9, None)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.clip(norms, 1e-12, None)).astype(np.float32)


def _build(folder: Path, target: Path, backend: str, spec: ModelSpec) -> None:
    from retrieval import onnx_export

    precision = PRECISIONS[backend]
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        pad_id, pad_token = _padding(tokenizer)
        tokenizer.enable_truncation(spec.max_tokens)
        tokenizer.enable_padding(pad_id=pad_id, pad_token=pad_token)
        encodings = tokenizer.encode_batch(list(CHECK_TEXTS))
        check = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        }
        check["token_type_ids"] = np.zeros_like(check["input_ids"])
        exported = staging / "exported.onnx"
        try:
            expected = onnx_export.export(folder, exported, precision=precision, check=check)
            _optimize(exported, staging / MODEL_FILE)
            exported.unlink()
        except Exception as exc:
            raise ModelNotFoundError(
                f"cannot build the ONNX encoder from {folder}: {exc} "
                "(set QUOTEDESK_ENCODER=torch to use the model as it is)"
            ) from exc
        shutil.copyfile(folder / TOKENIZER_FILE, staging / TOKENIZER_FILE)
        data = (staging / MODEL_FILE).read_bytes()
        manifest = {
            "recipe": RECIPE,
            "onnxruntime": _runtime_version(),
            "backend": backend,
            "precision": precision,
            "source": str(folder),
            "source_digest": source_digest(folder, target.parent),
            "sha256": hashlib.sha256(data).hexdigest(),
            "pad_id": pad_id,
            "spec": asdict(spec),
        }
        _write_atomic(staging / MANIFEST_FILE, json.dumps(manifest, indent=2).encode())
        encoder = OnnxEncoder(staging, name="check", threads=1)
        mask = check["attention_mask"]
        got = encoder.vectors(check["input_ids"], mask)
        cosines = np.sum(got * pool(expected, mask, spec.pooling), axis=1)
        if float(cosines.min()) < CHECK_COSINE[precision]:
            raise ModelNotFoundError(
                f"the ONNX encoder built from {folder} does not agree with torch (cosine "
                f"{float(cosines.min()):.4f}): set QUOTEDESK_ENCODER=torch"
            )
        del encoder
        _swap_in(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _optimize(exported: Path, target: Path) -> None:
    """Save ``exported`` as ONNX Runtime's graph optimizations leave it (fused attention, layer
    norms and GELU): loading it skips that work, about half of a session's start. Extended
    optimizations only: those beyond are specific to the machine that makes them."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(target)
    options.intra_op_num_threads = 1
    ort.InferenceSession(str(exported), options, providers=["CPUExecutionProvider"])


def _runtime_version() -> str:
    import onnxruntime as ort

    return str(ort.__version__)


def _padding(tokenizer: Any) -> tuple[int, str]:
    """The pad token the tokenizer file names (it pads to a fixed length there), else [PAD]."""
    configured = tokenizer.padding or {}
    if "pad_id" in configured and "pad_token" in configured:
        return int(configured["pad_id"]), str(configured["pad_token"])
    found = tokenizer.token_to_id("[PAD]")
    return (0 if found is None else int(found)), "[PAD]"


def _swap_in(staging: Path, target: Path) -> None:
    """Rename ``staging`` to ``target``; a damaged ``target`` is moved aside and removed."""
    if target.exists():
        trash = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".old"))
        os.replace(target, trash / "old")
        shutil.rmtree(trash, ignore_errors=True)
    try:
        os.rename(staging, target)
    except OSError:
        # Another process put a folder there first (only without the lock): keep that one.
        if _problem(target) is not None:
            raise


def _problem(built: Path, *, verify: bool = False) -> str | None:
    """Why the built folder cannot be used, or None when it can."""
    try:
        manifest = json.loads((built / MANIFEST_FILE).read_text())
        size = (built / MODEL_FILE).stat().st_size
        if not (built / TOKENIZER_FILE).is_file():
            return f"{TOKENIZER_FILE} is missing"
        if not isinstance(manifest, dict) or manifest.get("recipe") != RECIPE:
            return "made by another recipe"
        if size == 0:
            return f"{MODEL_FILE} is empty"
        if verify:
            with (built / MODEL_FILE).open("rb") as handle:
                if hashlib.file_digest(handle, "sha256").hexdigest() != manifest.get("sha256"):
                    return f"{MODEL_FILE} does not match its checksum"
    except FileNotFoundError as exc:
        return f"{Path(str(exc.filename)).name} is missing"
    except (OSError, ValueError) as exc:
        return f"cannot read it: {exc}"
    return None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` between processes (none where ``fcntl`` is missing: the
    build's rename keeps the first folder then)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _json_or_empty(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    value = json.loads(path.read_text())
    return value if isinstance(value, dict) else {}


def _skipped(path: Path, folder: Path) -> bool:
    # Files that do not change the model: docs, git metadata, caches, exports of others.
    parts = path.relative_to(folder).parts
    return path.suffix.lower() == ".md" or any(
        p.startswith(".") or p in ("onnx", "openvino", "__pycache__") for p in parts
    )


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
