"""A throwaway PostgreSQL server for tests, and the fixtures that hand out its databases.

The server is made once per test session with ``initdb`` in a temporary folder, runs as an
unprivileged OS user (``postgres`` when the tests run as root: PostgreSQL refuses to run as
root), listens only on a unix socket inside that folder, and is stopped and deleted when the
session ends, also when it fails or is interrupted with Ctrl-C. A folder left behind by a
session that was killed outright (``kill -9``) is stopped and deleted by the next session.

Fixtures (registered in ``tests/conftest.py``):

* ``postgres_server`` (session): the running :class:`PostgresServer`.
* ``postgres_url`` (session): URL of one database shared by the whole session.
* ``postgres_fresh_url`` (function): URL of a new, empty database for this test alone.
* ``database_url`` (function, parametrized ``sqlite`` / ``postgresql``): a new, empty
  database of each kind, so one test runs on both.

Without PostgreSQL's programs (or without psycopg) the PostgreSQL tests are skipped, except
when the environment variable ``CI`` is set: there a missing server is a failure, so a CI
machine without PostgreSQL cannot pass by skipping. ``QUOTEDESK_PG_BINDIR`` names the folder
of ``initdb`` and ``pg_ctl`` when they are not found on their own; ``QUOTEDESK_PG_TMPDIR``
where the server's folder goes (default: ``/dev/shm`` when it has 1 GB free, else the
temporary folder).
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

BINDIR_VARIABLE = "QUOTEDESK_PG_BINDIR"
TMPDIR_VARIABLE = "QUOTEDESK_PG_TMPDIR"
MIN_SHM_BYTES = 1 << 30
FOLDER_PREFIX = "quotedesk-pg-"
OWNER_FILE = "owner.pid"
# The socket lives in a private folder, so the port only names the socket file: no clashes.
PORT = 5432
SUPERUSER = "postgres"
# Tests connect as an ordinary role that owns its databases, as an application does in
# production (no superuser powers to hide a missing grant).
APP_ROLE = "quotedesk"
TEMPLATE = "quotedesk_template"
SHARED_DATABASE = "quotedesk"
# Durability is worthless for a throwaway server; without it start-up and writes are faster.
SERVER_SETTINGS = {
    "listen_addresses": "''",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    # Generous: a test that leaves its engines open keeps their pooled connections.
    "max_connections": "200",
    "log_min_messages": "warning",
    # Every CREATE DATABASE writes the template's ~8 MB to the WAL: recycle it early so the
    # folder stays small (checkpoints cost little without fsync).
    "min_wal_size": "32MB",
    "max_wal_size": "64MB",
}
# A unix socket path must fit in sockaddr_un.sun_path (108 bytes on Linux).
MAX_SOCKET_PATH = 100


def in_ci() -> bool:
    """True when the environment variable ``CI`` is set to anything but a "no"."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(reason: str) -> NoReturn:
    """Skip the test for want of PostgreSQL; in CI, fail it instead."""
    if in_ci():
        pytest.fail(f"PostgreSQL is required in CI (CI is set): {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL is not available: {reason}")


def find_bindir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``, or None.

    Looks at ``$QUOTEDESK_PG_BINDIR`` alone when it is set; else at ``pg_config --bindir``,
    then ``initdb`` on the PATH, then Debian's ``/usr/lib/postgresql/<version>/bin`` (newest
    first): Debian keeps the server programs off the PATH, and its ``pg_config`` (from
    libpq-dev) may name a bindir whose server package is not installed.
    """
    if os.environ.get(BINDIR_VARIABLE):  # named explicitly: that folder or nothing
        return _usable(Path(os.environ[BINDIR_VARIABLE]))
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            )
            candidates.append(Path(out.stdout.strip()))
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    debian = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: [int(x) if x.isdigit() else 0 for x in Path(p).parent.name.split(".")],
        reverse=True,
    )
    candidates += [Path(p) for p in debian]
    return next((folder for folder in candidates if _usable(folder)), None)


def _usable(folder: Path) -> Path | None:
    """``folder`` when it holds the programs the server needs."""
    if all(os.access(folder / name, os.X_OK) for name in ("initdb", "pg_ctl", "postgres")):
        return folder
    return None


@dataclass
class _RunAs:
    """The OS user the server runs as: the current one, or an unprivileged one under root."""

    name: str
    uid: int | None = None  # None: do not switch users
    gid: int | None = None

    @classmethod
    def choose(cls) -> _RunAs:
        if os.geteuid() != 0:
            return cls(pwd.getpwuid(os.geteuid()).pw_name)
        for name in (SUPERUSER, "nobody"):
            with suppress(KeyError):
                entry = pwd.getpwnam(name)
                return cls(name, entry.pw_uid, entry.pw_gid)
        raise RuntimeError("running as root, and neither a 'postgres' nor a 'nobody' user exists")

    def popen_args(self) -> dict[str, Any]:
        """Keyword arguments for :mod:`subprocess` that drop root's privileges."""
        if self.uid is None:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


def _clean_env(folder: Path) -> dict[str, str]:
    # PG* variables of the caller (PGPORT, PGHOST, PGOPTIONS, ...) must not steer our server.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(LC_ALL="C", LANG="C", HOME=str(folder))
    return env


@dataclass
class PostgresServer:
    """One throwaway PostgreSQL server; see :func:`running_server`.

    Attributes:
        folder: The temporary folder: ``data/`` (the cluster), ``server.log``, the socket.
        bindir: Where ``initdb`` and ``pg_ctl`` were found.
        run_as: The OS user the server runs as.
        timings: Seconds spent in each start-up step, for measurements.
    """

    folder: Path
    bindir: Path
    run_as: _RunAs
    timings: dict[str, float] = field(default_factory=dict)
    _admin: Any = None
    _stopped: bool = False

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "server.log"

    def url(self, database: str, *, user: str = APP_ROLE) -> str:
        """A SQLAlchemy URL (psycopg 3) for ``database`` over the unix socket."""
        # Imported here: this module is a plugin, loaded by every pytest process (xdist's
        # controller too), and SQLAlchemy takes a fifth of a second to import.
        from sqlalchemy.engine import URL

        return URL.create(
            "postgresql+psycopg",
            username=user,
            database=database,
            query={"host": str(self.folder), "port": str(PORT)},
        ).render_as_string(hide_password=False)

    def _pg(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run one of PostgreSQL's programs as :attr:`run_as`; raise with its output on error."""
        command = [str(self.bindir / args[0]), *args[1:]]
        done = subprocess.run(
            command,
            cwd=self.folder,  # the caller's folder may be unreadable to that user (/root)
            env=_clean_env(self.folder),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            **self.run_as.popen_args(),
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
                + self._log_tail()
            )
        return done

    def _log_tail(self) -> str:
        with suppress(OSError):
            return "\n--- server.log ---\n" + self.log.read_text(errors="replace")[-4000:]
        return ""

    def start(self) -> None:
        """initdb, configure, start, and create the app role, template and shared database."""
        t0 = time.perf_counter()
        self._pg(
            "initdb",
            "--pgdata",
            str(self.data),
            "--username",
            SUPERUSER,
            "--auth",
            "trust",  # reachable only through a socket in a folder private to this user
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
            "--no-instructions",
        )
        t1 = time.perf_counter()
        settings = {
            **SERVER_SETTINGS,
            "port": str(PORT),
            "unix_socket_directories": f"'{self.folder}'",
        }
        # Appended to postgresql.conf rather than passed to pg_ctl -o: no shell quoting.
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n# quotedesk tests\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        self._pg("pg_ctl", "start", "--pgdata", str(self.data), "--log", str(self.log), "--wait")
        t2 = time.perf_counter()
        admin = self.admin()
        admin.execute(f"CREATE ROLE {APP_ROLE} LOGIN")
        admin.execute(f"CREATE DATABASE {TEMPLATE} OWNER {APP_ROLE} TEMPLATE template0")
        admin.execute(f"CREATE DATABASE {SHARED_DATABASE} OWNER {APP_ROLE} TEMPLATE {TEMPLATE}")
        t3 = time.perf_counter()
        self.timings.update(initdb=t1 - t0, pg_ctl_start=t2 - t1, databases=t3 - t2)

    def admin(self) -> Any:
        """An autocommit psycopg connection as the superuser (kept open for the session)."""
        if self._admin is None or self._admin.closed:
            import psycopg

            self._admin = psycopg.connect(
                host=str(self.folder),
                port=PORT,
                user=SUPERUSER,
                dbname="postgres",
                autocommit=True,
                connect_timeout=10,
            )
        return self._admin

    def create_database(self, name: str | None = None) -> str:
        """A new, empty database (a copy of the empty template: milliseconds); its name."""
        name = name or f"t_{uuid.uuid4().hex[:16]}"
        self.admin().execute(f'CREATE DATABASE "{name}" OWNER {APP_ROLE} TEMPLATE {TEMPLATE}')
        return name

    def drop_database(self, name: str) -> None:
        """Drop ``name``, ending connections a test left open (engines it did not dispose)."""
        self.admin().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        """Stop the server (immediately: its data is thrown away) and delete the folder."""
        if self._stopped:
            return
        self._stopped = True
        if self._admin is not None:
            with suppress(Exception):
                self._admin.close()
        if (self.data / "postmaster.pid").exists():
            with suppress(Exception):
                self._pg("pg_ctl", "stop", "--pgdata", str(self.data), "-m", "immediate", "-w")
        shutil.rmtree(self.folder, ignore_errors=True)


def _base_folders() -> list[Path]:
    """Where a server folder may go, best first: memory (``/dev/shm``) when it has room, for
    fast CREATE DATABASE (on a busy disk, a copy took 50-700 ms instead of ~30), then the
    temporary folder. ``$QUOTEDESK_PG_TMPDIR`` overrides both."""
    if os.environ.get(TMPDIR_VARIABLE):
        return [Path(os.environ[TMPDIR_VARIABLE])]
    bases = []
    shm = Path("/dev/shm")
    with suppress(OSError):
        # Docker gives /dev/shm 64 MB by default: too small for a cluster and its copies.
        room = os.statvfs(shm)
        if room.f_bavail * room.f_frsize >= MIN_SHM_BYTES and os.access(shm, os.W_OK):
            bases.append(shm)
    temp = Path(tempfile.gettempdir())
    # The socket path must stay short, and the server's user must be able to reach the folder.
    if len(str(temp)) > MAX_SOCKET_PATH - 40 or not os.access(temp, os.W_OK):
        temp = Path("/tmp")
    return [*bases, temp]


def _owner_stamp() -> str:
    """This process as owner of a server folder: its pid and pid namespace."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = "?"
    return f"{os.getpid()} {namespace}\n"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale(bindir: Path, base: Path | None = None) -> list[Path]:
    """Stop and delete servers left by test sessions that died without cleaning up.

    A folder is stale when the process named in its ``owner.pid`` is gone; folders of live
    sessions (another worktree's tests, say) are left alone. Returns the folders removed.
    """
    removed = []
    bases = [base] if base else _base_folders()
    for folder in [f for b in bases for f in b.glob(FOLDER_PREFIX + "*")]:
        try:
            pid, namespace = (folder / OWNER_FILE).read_text().split()
            owner = int(pid)
        except (OSError, ValueError):
            continue  # not (yet) one of ours
        # A pid means nothing in another pid namespace (a container sharing /tmp): leave it.
        if namespace != _owner_stamp().split()[1] or _pid_alive(owner):
            continue
        try:
            stat = folder.stat()
            run_as = _RunAs(pwd.getpwuid(stat.st_uid).pw_name)
            if os.geteuid() == 0 and stat.st_uid != 0:
                run_as = _RunAs(run_as.name, stat.st_uid, stat.st_gid)
            PostgresServer(folder, bindir, run_as).stop()
            removed.append(folder)
        except (OSError, KeyError):
            continue
    return removed


@contextmanager
def running_server(bindir: Path) -> Iterator[PostgresServer]:
    """Make, start, and finally stop and delete a throwaway server."""
    sweep_stale(bindir)
    run_as = _RunAs.choose()
    folder = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX, dir=_base_folders()[0]))
    (folder / OWNER_FILE).write_text(_owner_stamp())
    if run_as.uid is not None:
        os.chown(folder, run_as.uid, run_as.gid if run_as.gid is not None else -1)
    server = PostgresServer(folder, bindir, run_as)
    # Should the fixture's teardown never run (an error in pytest itself), stop at exit.
    atexit.register(server.stop)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        atexit.unregister(server.stop)


# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's throwaway PostgreSQL server (skipped without PostgreSQL, failed in CI)."""
    bindir = find_bindir()
    if bindir is None:
        where = os.environ.get(BINDIR_VARIABLE) or "pg_config --bindir, PATH, /usr/lib/postgresql"
        unavailable(
            f"initdb/pg_ctl/postgres not found in {where} (install Debian's 'postgresql' "
            f"package, or set {BINDIR_VARIABLE})"
        )
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("psycopg is not installed (pip install -e '.[test]')")
    with running_server(bindir) as server:
        yield server


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """URL of a database shared by the whole session: tests see each other's rows."""
    return postgres_server.url(SHARED_DATABASE)


@pytest.fixture
def postgres_fresh_url(postgres_server: PostgresServer) -> Iterator[str]:
    """URL of a new, empty database for this test alone; dropped after it."""
    name = postgres_server.create_database()
    try:
        yield postgres_server.url(name)
    finally:
        postgres_server.drop_database(name)


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'quotedesk.db'}"
    # Looked up lazily, so a run of only the sqlite cases never starts PostgreSQL.
    return str(request.getfixturevalue("postgres_fresh_url"))
