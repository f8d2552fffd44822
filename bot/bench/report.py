"""What ``quotedesk bench`` measured: rows (each figure beside a baseline measured in the same
run, and their ratio), the series for the chart, and the machine; printed as a table, as JSON,
and drawn as a PNG."""

from __future__ import annotations

import contextlib
import math
import os
import platform
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.table import Table


@dataclass(frozen=True)
class Row:
    """One figure and the baseline it is compared with.

    Attributes:
        section: What part of the bench it belongs to ("ingest", "query 100k", ...).
        name: What was measured.
        value: The figure (None when it could not be measured).
        unit: Its unit ("ms", "s", "MB", "/s", "x", "").
        baseline_name: What the baseline is.
        baseline: The baseline's figure, measured in the same run.
        better: "lower" or "higher": which way the figure is better.
        target: The goal, written for a person ("<= 20 ms"); empty when there is none.
        met: Whether the goal was met (None without a goal).
        note: Anything a reader needs to read the figure right.
    """

    section: str
    name: str
    value: float | None
    unit: str
    baseline_name: str = ""
    baseline: float | None = None
    better: str = "lower"
    target: str = ""
    met: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """The figure over its baseline."""
        if self.value is None or not self.baseline or math.isnan(self.value):
            return None
        return self.value / self.baseline

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio}


@dataclass
class Point:
    """One index kind at one corpus size, for the chart."""

    kind: str
    size: int
    p50_ms: float | None
    p99_ms: float | None
    memory_mb: float | None
    recall: float | None = None
    build_s: float | None = None


@dataclass
class Report:
    """Everything a bench run measured."""

    command: str
    machine: dict[str, Any]
    encoder: str = ""
    rows: list[Row] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    seconds: float = 0.0

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        return row

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "started": self.started,
            "seconds": round(self.seconds, 1),
            "machine": self.machine,
            "encoder": self.encoder,
            "rows": [row.to_dict() for row in self.rows],
            "points": [asdict(p) for p in self.points],
            "notes": self.notes,
        }


def machine() -> dict[str, Any]:
    """Cores, CPU model and flags, memory, Python and library versions."""
    info: dict[str, Any] = {
        "cores": os.cpu_count(),
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "system": platform.platform(),
    }
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        cpuinfo = ""
    if model := re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M):
        info["cpu"] = model.group(1).strip()
    if flags := re.search(r"^flags\s*:\s*(.+)$", cpuinfo, re.M):
        wanted = ("avx", "avx2", "avx512f", "avx512_vnni", "avx_vnni", "fma", "f16c", "sse4_2")
        have = set(flags.group(1).split())
        info["flags"] = " ".join(f for f in wanted if f in have)
    with contextlib.suppress(OSError):
        meminfo = Path("/proc/meminfo").read_text()
        if total := re.search(r"^MemTotal:\s*(\d+)", meminfo, re.M):
            info["memory_gb"] = round(int(total.group(1)) / 1024 / 1024, 1)
    with contextlib.suppress(OSError):
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    import faiss

    info["faiss"] = faiss.__version__
    return info


def _number(value: float | None, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, int):  # a count
        return f"{value:,} {unit}".rstrip()
    if unit == "x":
        return f"{value:.2f}x"
    if unit in ("", "recall"):
        return f"{value:.3f}"
    magnitude = abs(value)
    text = (
        f"{value:,.0f}"
        if magnitude >= 100
        else f"{value:.1f}"
        if magnitude >= 10
        else f"{value:.2f}"
    )
    return f"{text} {unit}".rstrip()


def _ratio(row: Row) -> str:
    ratio = row.ratio
    return "-" if ratio is None else f"{ratio:.2f}"


def _goal(row: Row) -> str:
    if not row.target:
        return ""
    return f"{row.target} {'ok' if row.met else 'MISSED' if row.met is False else ''}".strip()


def _cells(row: Row) -> tuple[str, ...]:
    """A row's cells, in the columns of :func:`table` and :func:`markdown`."""
    return (
        row.section,
        row.name + (f" ({row.note})" if row.note else ""),
        _number(row.value, row.unit),
        row.baseline_name,
        _number(row.baseline, row.unit),
        _ratio(row),
        _goal(row),
    )


def table(report: Report) -> Table:
    """The rows as a rich table (the same columns in a terminal and piped)."""
    grid = Table(title=f"quotedesk bench - encoder: {report.encoder}", title_justify="left")
    for header in ("section", "measure", "value", "baseline", "baseline value", "ratio", "target"):
        grid.add_column(header, no_wrap=header in ("value", "baseline value", "ratio"))
    for row in report.rows:
        grid.add_row(*_cells(row))
    return grid


def markdown(report: Report) -> str:
    """The rows as a Markdown table (for BENCHMARKS.md)."""
    lines = [
        "| section | measure | value | baseline | baseline value | ratio | target |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in report.rows:
        lines.append("| " + " | ".join(c.replace("|", "/") for c in _cells(row)) + " |")
    return "\n".join(lines)


def can_draw() -> bool:
    """Whether matplotlib is installed (the ``bench`` extra)."""
    import importlib.util

    return importlib.util.find_spec("matplotlib") is not None


def chart(report: Report, path: Path) -> Path:
    """Answer latency (p50 solid, p99 dashed) and dense index memory against corpus size, one
    line per index kind tried."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = sorted({p.kind for p in report.points})
    fig, (latency, memory) = plt.subplots(1, 2, figsize=(11, 4.2))
    for number, kind in enumerate(kinds):
        points = sorted((p for p in report.points if p.kind == kind), key=lambda p: p.size)
        color = f"C{number}"
        sizes = [p.size for p in points]
        latency.plot(sizes, [p.p50_ms for p in points], "o-", color=color, label=f"{kind} p50")
        latency.plot(sizes, [p.p99_ms for p in points], "s--", color=color, label=f"{kind} p99")
        memory.plot(sizes, [p.memory_mb for p in points], "o-", color=color, label=kind)
    for axis, title, unit in (
        (latency, "answer latency (question in, formatted answer out)", "ms"),
        (memory, "dense index memory", "MB"),
    ):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("passages")
        axis.set_ylabel(unit)
        axis.set_title(title, fontsize=10)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=7)
    fig.suptitle(f"quotedesk bench, {report.started[:10]}, encoder: {report.encoder}", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
