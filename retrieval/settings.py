"""Where the core keeps its data and finds its model: :class:`Settings`, from arguments first
and the environment second. The one place the core reads the environment
(``QUOTEDESK_DATA_DIR``, ``DATABASE_URL``, ``QUOTEDESK_MODEL``, ``QUOTEDESK_ENCODER``,
``QUOTEDESK_MODEL_CACHE``); how retrieval is tuned is :mod:`retrieval.tuning`'s."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from retrieval.errors import DataDirError, InvalidArgumentError

DEFAULT_DATA_DIR = ".quotedesk"
# Created readable by its owner only: the database holds the corpus and who asked what.
DATA_DIR_MODE = 0o700
DATABASE_FILE_MODE = 0o600

# The sentence encoder's backends (QUOTEDESK_ENCODER): the model on ONNX Runtime with int8
# weights (the default: 2-3x torch's encoding throughput on two cores, and hit@3 on the seed
# golden set and answer@5 on rtqa-2022 as with torch in every mode), on ONNX Runtime in fp32
# (vectors equal to torch's), or on torch through sentence-transformers. The ONNX ones need
# no torch to answer a question.
ENCODERS = ("onnx-int8", "onnx", "torch")
DEFAULT_ENCODER = "onnx-int8"


@dataclass(frozen=True)
class Settings:
    """Where the core keeps its data and finds its model.

    Attributes:
        data_dir: Folder for the SQLite database and the FAISS index cache.
        database_url: Any SQLAlchemy URL; defaults to SQLite inside ``data_dir``.
        model_path: A local sentence-transformers folder; ``None`` means the packaged
            all-MiniLM-L6-v2.
        encoder: The sentence encoder's backend, one of :data:`ENCODERS`
            (``QUOTEDESK_ENCODER``, default :data:`DEFAULT_ENCODER`).
        model_cache: Where the ONNX encoders are built and cached
            (``QUOTEDESK_MODEL_CACHE``); ``None`` means ``<data_dir>/models``. Data dirs that
            share one build each model once.

    Example (what is given wins over the environment):
        >>> settings = Settings.resolve(data_dir="/tmp/qd", database_url="sqlite:///:memory:")
        >>> settings.database_url, settings.data_dir.as_posix()
        ('sqlite:///:memory:', '/tmp/qd')
    """

    data_dir: Path
    database_url: str
    model_path: str | None = None
    encoder: str = DEFAULT_ENCODER
    model_cache: Path | None = None

    @property
    def models_dir(self) -> Path:
        """The folder the ONNX encoders are built into and loaded from."""
        return self.model_cache or self.data_dir / "models"

    @classmethod
    def resolve(
        cls,
        *,
        data_dir: str | os.PathLike[str] | None = None,
        database_url: str | None = None,
        model_path: str | None = None,
        encoder: str | None = None,
        model_cache: str | os.PathLike[str] | None = None,
    ) -> Settings:
        """Fill what was not given from the environment.

        ``QUOTEDESK_DATA_DIR``, ``DATABASE_URL``, ``QUOTEDESK_MODEL``, ``QUOTEDESK_ENCODER``
        and ``QUOTEDESK_MODEL_CACHE`` stand in for the arguments. (How long the bot keeps its
        records, ``QUOTEDESK_RETENTION_DAYS``, is the bot's setting: ``bot/slack/config.py``.)

        Raises:
            InvalidArgumentError: ``QUOTEDESK_ENCODER`` names no backend, or the data directory
                is a file.
        """
        folder = Path(data_dir or os.environ.get("QUOTEDESK_DATA_DIR") or DEFAULT_DATA_DIR)
        folder = folder.expanduser().resolve()
        if folder.is_file():
            # Input the user can fix, as `--data-dir FILE` is (exit 2): not a data dir failing.
            raise InvalidArgumentError(f"the data directory {folder} is a file, not a folder")
        url = (
            database_url or os.environ.get("DATABASE_URL") or f"sqlite:///{folder / 'quotedesk.db'}"
        )
        return cls(
            data_dir=folder,
            database_url=_normalize_url(url),
            model_path=model_path or os.environ.get("QUOTEDESK_MODEL") or None,
            encoder=parse_encoder(encoder or os.environ.get("QUOTEDESK_ENCODER") or None),
            model_cache=_folder(model_cache or os.environ.get("QUOTEDESK_MODEL_CACHE")),
        )

    def ensure_data_dir(self) -> Path:
        """Create the data directory if needed and check it can be read and written.

        A directory it creates is readable by its owner only (0700), and so is a SQLite
        database file it creates (0600); an existing directory keeps its permissions (it may
        be one the user chose to share).
        """
        try:
            # mkdir applies the umask to the mode, which can only take permissions away.
            self.data_dir.mkdir(mode=DATA_DIR_MODE, parents=True, exist_ok=True)
        except OSError as exc:
            raise DataDirError(
                f"cannot create data directory {self.data_dir}: {exc.strerror}"
            ) from exc
        if not self.data_dir.is_dir():
            raise DataDirError(f"data directory {self.data_dir} is not a directory")
        if not os.access(self.data_dir, os.R_OK | os.W_OK | os.X_OK):
            raise DataDirError(
                f"data directory {self.data_dir} is not readable and writable by this user"
            )
        _create_private_file(sqlite_path(self.database_url))
        return self.data_dir


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _folder(value: str | os.PathLike[str] | None) -> Path | None:
    return Path(value).expanduser().resolve() if value else None


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite database URL; None for an in-memory database or another kind.

    Example:
        >>> sqlite_path("sqlite:////tmp/qd/quotedesk.db")
        PosixPath('/tmp/qd/quotedesk.db')
    """
    scheme, sep, rest = url.partition(":///")
    if not sep or scheme.split("+")[0] != "sqlite":
        return None
    path = rest.partition("?")[0]
    return Path(path) if path and path != ":memory:" else None


def _create_private_file(path: Path | None) -> None:
    # Created empty here, with its mode, before SQLite creates it with the umask's (0644 as a
    # rule); SQLite gives its -wal and -shm files the database file's permissions.
    if path is None or not path.parent.is_dir():
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, DATABASE_FILE_MODE))
    except FileExistsError:
        pass
    except OSError as exc:
        raise DataDirError(f"cannot create the database file {path}: {exc.strerror}") from exc


def parse_encoder(value: str | None) -> str:
    """The encoder backend named ``value`` (:data:`DEFAULT_ENCODER` for None or blank).

    Raises:
        InvalidArgumentError: ``value`` names no backend.

    Example:
        >>> parse_encoder(" ONNX ")
        'onnx'
    """
    name = (value or "").strip().lower() or DEFAULT_ENCODER
    if name not in ENCODERS:
        raise InvalidArgumentError(
            f"QUOTEDESK_ENCODER must be one of {', '.join(ENCODERS)}, not {value!r}"
        )
    return name


def _normalize_url(url: str) -> str:
    # Platforms hand out postgres:// URLs; SQLAlchemy 2 wants a driver name.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url
