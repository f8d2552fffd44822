"""Other processes the bench starts and measures: a cold ``quotedesk ask`` and a bare encoder,
with their peak resident memory. (``quotedesk serve`` is started by
:func:`standins.processes.serve_process`.)"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

# The default encoder loaded in a fresh process and asked to encode one question: the floor
# under any command that answers.
BARE_ENCODER = (
    "from retrieval.settings import Settings\n"
    "from retrieval.embedder import shared_encoder\n"
    "s = Settings.resolve()\n"
    "encoder = shared_encoder(s.model_path, backend=s.encoder, models=s.models_dir)\n"
    "encoder.encode_query('why did Baku skip the Washington meeting?')\n"
)


@dataclass(frozen=True)
class Finished:
    """A process run to its end: wall seconds from start to exit, its peak resident memory."""

    seconds: float
    max_rss_mb: float
    code: int
    output: str


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a child: this process's (a child runs ``python -m bot`` from the
    same interpreter, in the same working directory: it finds the same quotedesk), quiet,
    offline."""
    env = dict(os.environ)
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    env.pop("QUOTEDESK_DATA_DIR", None)
    env.update(extra or {})
    return env


# Runs its arguments as a child and prints the child's wall time, peak RSS and exit code
# last. A small process in between: Linux counts into a child's peak RSS the memory of the
# process it was forked from (the bench itself, a gigabyte), so the bench cannot fork the
# measured command directly.
LAUNCHER = """
import os, sys, time
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - started
sys.stdout.flush()
print(f"\\n{MARK} {seconds} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""
MARK = "@@quotedesk-bench-measured"


def run_measured(
    args: list[str], *, timeout: float = 300, env: dict[str, str] | None = None
) -> Finished:
    """Run ``args`` to its end: wall time from launch to exit, and its peak RSS."""
    launcher = LAUNCHER.replace("{MARK}", MARK)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", launcher, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env or child_env(),
    )
    assert proc.stdout is not None
    deadline = started + timeout
    try:
        output = _read_all(proc, deadline)
        proc.wait(timeout=max(1.0, deadline - time.perf_counter()))
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    head, _, tail = output.rpartition(MARK)
    try:
        seconds, max_rss_kb, code = tail.split()
        return Finished(float(seconds), int(max_rss_kb) / 1024, int(code), head.rstrip("\n"))
    except ValueError:  # the launcher itself failed
        return Finished(time.perf_counter() - started, 0.0, proc.returncode or 1, output)


def _read_all(proc: subprocess.Popen[bytes], deadline: float) -> str:
    assert proc.stdout is not None
    chunks = []
    os.set_blocking(proc.stdout.fileno(), False)
    while True:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{proc.args!r} ran past its time limit")
        try:
            data = proc.stdout.read()
        except BlockingIOError:
            data = None
        if data:
            chunks.append(data)
        elif data == b"" or proc.poll() is not None:
            rest = proc.stdout.read() or b""
            chunks.append(rest)
            break
        else:
            time.sleep(0.01)
    return b"".join(chunks).decode("utf-8", "replace")


def cold_ask(data_dir: Path, question: str, *, env: dict[str, str] | None = None) -> Finished:
    """``quotedesk ask`` for one question from a cold process (``env`` added to its
    environment)."""
    return run_measured(
        [sys.executable, "-m", "bot", "ask", "--data-dir", str(data_dir), question],
        env=child_env(env),
    )


def bare_encoder(*, env: dict[str, str] | None = None) -> Finished:
    """The default encoder loaded in a fresh process, one question encoded."""
    return run_measured([sys.executable, "-c", BARE_ENCODER], env=child_env(env))
