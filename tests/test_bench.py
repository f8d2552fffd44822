"""``quotedesk bench``: the store filled to size from a real corpus, the scale stage measuring
every index kind against exact search, the table, JSON and chart; and ``--smoke`` end to end
(the real model and other processes: slow)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bot.bench import fill, report
from bot.bench.run import DEFAULT_QUESTIONS, Bench, Plan, label, smoke_plan
from bot.bench.vectors import recall_at
from retrieval import QuoteDesk
from tests.helpers import FAKE_CONFIG, ROOT, SEEDS, FakeEncoder, copy_data_dir, open_desk


@pytest.fixture
def source(tmp_path: Path, seeded_data: Path) -> QuoteDesk:
    """A desk over the seeds."""
    return open_desk(copy_data_dir(seeded_data, tmp_path / "source"), FakeEncoder(), FAKE_CONFIG)


def test_a_store_is_filled_to_size_real_passages_first(source: QuoteDesk, tmp_path: Path) -> None:
    pool = fill.RealPool.from_store(source.store)
    real = len(pool.passages)
    assert real == source.store.passage_count() and real < 100
    target = open_desk(tmp_path / "target", FakeEncoder(), FAKE_CONFIG)
    filler = fill.Filler(target.store, pool)
    assert filler.fill_to(20) == 20  # part of the real passages: cut to the size exactly
    assert filler.fill_to(real + 250) == real + 250 == target.store.passage_count()
    assert filler.fill_to(100) == real + 250  # never removes
    texts = {p.text for p in pool.passages}
    stored = target.store.passages(range(1, real + 251))
    assert {stored[i].text for i in range(1, real + 1)} == texts
    synthetic = [stored[i] for i in range(real + 1, real + 251)]
    vectors = np.vstack([p.vector for p in synthetic])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    # Near real passages, but no near-copy of one (the duplicate merge starts at 0.9).
    nearest = (vectors @ pool.vectors.T).max(axis=1)
    assert nearest.max() < 0.9 and np.median(nearest) > 0.3
    words = set(pool.words)
    assert all(p.text.endswith(".") and set(p.text[:-1].split()) <= words for p in synthetic)


def test_held_out_queries_are_not_stored_vectors(source: QuoteDesk) -> None:
    pool = fill.RealPool.from_store(source.store)
    queries = fill.held_out_queries(pool.vectors, 30)
    assert queries.shape == (30, pool.vectors.shape[1])
    assert (queries @ pool.vectors.T).max() < 0.95


def test_blank_line_paragraphs_of_more_than_20_characters() -> None:
    text = "Title line\n\nshort\n\n  A paragraph long enough to count.  \n \nAnother one, long too."
    assert list(fill.paragraphs([text])) == [
        "A paragraph long enough to count.",
        "Another one, long too.",
    ]


@pytest.mark.slow  # builds every index kind
def test_the_scale_stage_measures_every_kind_against_exact_search(
    source: QuoteDesk, tmp_path: Path
) -> None:
    plan = Plan(
        name="test",
        corpus=SEEDS,
        sizes=(200, 800),
        hnsw_max=200,
        repeats=1,
        held_out=20,
        warmup_asks=1,
        serve_size=None,
        bm25s_max=200,
        questions=DEFAULT_QUESTIONS[:3],
    )
    said: list[str] = []
    result = report.Report(command="test", machine={})
    fake = FakeEncoder()
    bench = Bench(plan, tmp_path / "work", result, say=said.append, seeds=SEEDS, encoder=fake)
    bench.scale(source)
    assert {(p.kind, p.size) for p in result.points} == {
        ("flat", 200),
        ("hnsw", 200),
        ("ivf-sq8", 200),
        ("flat", 800),
        ("ivf-sq8", 800),
    }
    for point in result.points:
        assert point.recall is not None and point.recall >= 0.9
        assert (
            point.p50_ms is not None and point.p99_ms is not None and point.p99_ms >= point.p50_ms
        )
        assert point.memory_mb is not None and point.memory_mb > 0
    sq8 = next(p for p in result.points if p.kind == "ivf-sq8" and p.size == 800)
    flat = next(p for p in result.points if p.kind == "flat" and p.size == 800)
    assert sq8.memory_mb is not None and flat.memory_mb is not None
    assert sq8.memory_mb < 0.5 * flat.memory_mb
    names = [row.name for row in result.rows]
    assert (
        "flat (chosen): answer p50" in names and "ivf-sq8: recall@10 vs exact, questions" in names
    )
    assert any(row.name.startswith("BM25 build") for row in result.rows)
    assert all(row.baseline is not None for row in result.rows)
    assert any("hnsw was not built at 800" in note for note in result.notes)
    # What a desk at the last size finds in the data dir: the chosen kind, and BM25.
    work = tmp_path / "work" / "scale"
    assert len(list(work.glob("index-*.faiss"))) == 1 and len(list(work.glob("lexical-*"))) == 1
    assert any("store filled to 800 passages" in line for line in said)


@pytest.mark.slow  # another process answers for the step's time (about half a minute)
def test_the_smoke_plans_change_step_reports_its_rows(source: QuoteDesk, tmp_path: Path) -> None:
    plan = smoke_plan(SEEDS, [])
    assert plan.change_size == max(plan.sizes)
    result = report.Report(command="test", machine={})
    said: list[str] = []
    bench = Bench(
        plan, tmp_path / "work", result, say=said.append, seeds=SEEDS, encoder=FakeEncoder()
    )
    bench.config = FAKE_CONFIG  # the fake encoder's cosines are small
    # What the query stage leaves: the store at the size, its index files in the data dir.
    desk = bench.desk("scale")
    pool = fill.RealPool.from_store(source.store)
    fill.Filler(desk.store, pool).fill_to(plan.change_size)
    desk.warm()
    questions = list(plan.questions)
    queries = np.vstack([bench.encoder.encode(questions), fill.held_out_queries(pool.vectors, 20)])
    started = time.perf_counter()
    bench.change(plan.change_size, desk.store, pool, questions, queries)
    assert time.perf_counter() - started < plan.change_seconds + 15
    rows = [row for row in result.rows if row.section == "change 2k"]
    assert len(rows) == len(result.rows) == 9, [row.name for row in result.rows]

    def row(start: str) -> report.Row:
        return next(row for row in rows if row.name.startswith(start))

    added = row("add 100 passages (5 new documents): answer p99 from the commit")
    assert added.unit == "ms" and added.value and added.baseline and added.target == "<= 100 ms"
    quoted = row("add: commit to the replica's first answer quoting a new document")
    assert quoted.value is not None and quoted.met, quoted
    failed = row("questions that failed")
    assert failed.value == 0 and failed.baseline and failed.met
    removed = row("remove those 100 passages: answers quoting one")
    assert removed.value == 0 and removed.baseline and removed.met, removed
    assert row("remove: answer p99").unit == "ms"
    assert "all 10 planned" in row("10 changes in a row").note
    for what in ("questions", "held-out passages"):
        recall = row(f"after 12 changes: the replica's dense index recall@10 vs exact, {what}")
        assert recall.value == 1.0 and recall.met  # exact search at 2k: the same neighbours
    assert row("the replica's index loads, builds or updates").value is not None
    assert any("replica ready" in line for line in said)


@pytest.mark.slow  # draws the chart
def test_the_table_json_and_chart(tmp_path: Path) -> None:
    result = report.Report(command="quotedesk bench --smoke", machine=report.machine())
    result.encoder = "fake"
    result.add(
        report.Row(
            "query 1M",
            "ivf-sq8 (chosen): answer p50",
            12.0,
            "ms",
            "flat",
            48.0,
            target="<= 20 ms",
            met=True,
            note="encode 5",
        )
    )
    result.add(
        report.Row(
            "ingest",
            "ingest",
            30.0,
            "kB/s",
            "plain encode",
            40.0,
            better="higher",
            target=">= 1.5x baseline",
            met=False,
        )
    )
    result.add(report.Row("start-up", "no baseline", 1.0, "s"))
    for kind, size, p50, memory in [
        ("flat", 10_000, 5, 15),
        ("flat", 100_000, 9, 150),
        ("ivf-sq8", 100_000, 4, 40),
        ("ivf-sq8", 1_000_000, 6, 400),
    ]:
        result.points.append(report.Point(kind, size, p50, p50 * 2, memory))
    assert result.rows[0].ratio == pytest.approx(0.25)
    assert result.rows[2].ratio is None
    text = report.markdown(result)
    assert (
        "| query 1M | ivf-sq8 (chosen): answer p50 (encode 5) | 12.0 ms | flat | 48.0 ms | 0.25 |"
        in text
    )
    assert "<= 20 ms ok" in text and ">= 1.5x baseline MISSED" in text
    data = json.loads(json.dumps(result.to_dict()))
    assert data["rows"][0]["ratio"] == pytest.approx(0.25) and data["machine"]["cores"]
    png = report.chart(result, tmp_path / "chart.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sizes_are_labelled_as_the_tables_name_them() -> None:
    assert [label(n) for n in (500, 2_000, 10_000, 1_000_000, 1_234)] == [
        "500",
        "2k",
        "10k",
        "1M",
        "1,234",
    ]


def test_recall_counts_the_true_neighbours_found() -> None:
    truth = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    found = np.array([[4, 3, 9, -1], [5, 6, 7, 8]])
    assert recall_at(found, truth) == pytest.approx((0.5 + 1.0) / 2)


@pytest.mark.slow
def test_bench_smoke_prints_its_table(tmp_path: Path) -> None:
    chart, table = tmp_path / "bench.png", tmp_path / "bench.md"
    args = [sys.executable, "-m", "bot", "bench", "--smoke", "--chart", str(chart)]
    args += ["--markdown", str(table), "--work-dir", str(tmp_path / "work")]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    for expected in (
        "quotedesk bench",
        "encoder:",
        "ingest",
        "start-up",
        "query 500",
        "query 2k",
        "serve 2k",
        "change 2k",
        "questions that failed",
        "flat (chosen): answer p50",
        "ivf-sq8: recall@10 vs exact, questions",
        "ivf-sq8: recall@10 vs exact, held-out passages",
        "signed event: p99 time to HTTP response",
        "baseline",
        "ratio",
    ):
        assert expected in out, expected
    assert chart.read_bytes()[:4] == b"\x89PNG"
    assert table.read_text().startswith("| section | measure |")
