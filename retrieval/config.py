"""Settings of the core, from arguments first and the environment second."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from retrieval.errors import DataDirError

DEFAULT_DATA_DIR = ".quotedesk"


@dataclass(frozen=True)
class Settings:
    """Where the core keeps its data and finds its model.

    Attributes:
        data_dir: Folder for the SQLite database and the FAISS index cache.
        database_url: Any SQLAlchemy URL; defaults to SQLite inside ``data_dir``.
        model_path: A local sentence-transformers folder; ``None`` means the packaged
            all-MiniLM-L6-v2.

    Example:
        >>> settings = Settings.resolve(data_dir="/tmp/qd")
        >>> settings.database_url
        'sqlite:////tmp/qd/quotedesk.db'
    """

    data_dir: Path
    database_url: str
    model_path: str | None = None

    @classmethod
    def resolve(
        cls,
        *,
        data_dir: str | os.PathLike[str] | None = None,
        database_url: str | None = None,
        model_path: str | None = None,
    ) -> Settings:
        """Fill what was not given from the environment.

        ``QUOTEDESK_DATA_DIR``, ``DATABASE_URL`` and ``QUOTEDESK_MODEL`` stand in for the arguments.
        """
        folder = Path(data_dir or os.environ.get("QUOTEDESK_DATA_DIR") or DEFAULT_DATA_DIR)
        folder = folder.expanduser().resolve()
        url = (
            database_url or os.environ.get("DATABASE_URL") or f"sqlite:///{folder / 'quotedesk.db'}"
        )
        return cls(
            data_dir=folder,
            database_url=_normalize_url(url),
            model_path=model_path or os.environ.get("QUOTEDESK_MODEL") or None,
        )

    def ensure_data_dir(self) -> Path:
        """Create the data directory if needed and check it can be read and written."""
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
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
        return self.data_dir


def _normalize_url(url: str) -> str:
    # Platforms hand out postgres:// URLs; SQLAlchemy 2 wants a driver name.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url
