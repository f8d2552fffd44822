"""The ONNX Runtime encoder: its cache (built once, reused, rebuilt when damaged, one build
between concurrent loaders), its batching, the backend setting, and (slow, the real model) its
agreement with the torch encoder and a question answered without importing torch.

The fast tests build a tiny stand-in model (a word-piece embedding table, 8 dimensions) with a
stand-in exporter, so they need neither torch nor the real model.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from bot.cli import cli
from retrieval import QuoteDesk, Settings, onnx_encoder, onnx_export
from retrieval import embedder as embedding
from retrieval.errors import InvalidArgumentError, ModelNotFoundError
from retrieval.settings import DEFAULT_ENCODER, parse_encoder
from tests.helpers import ROOT

DIM = 8
MAX_TOKENS = 16
VOCAB = 30522
SENTENCES = [
    "Why did Baku skip the Washington meeting?",
    "Azerbaijan withdrew from the talks after remarks by a State Department official.",
    "The central bank raised interest rates by half a percentage point on Thursday.",
    "Shares of the retailer fell 12% after it cut its forecast.",
    "NASA's rocket lifted off from Florida shortly after dawn.",
    "Who fled on horseback?",
    "A storm knocked out power to thousands of homes in the region.",
    "The minister resigned amid a corruption inquiry.",
    "Officials said the bridge would reopen next month.",
    "Bed Bath & Beyond turned off the air conditioning in its stores.",
    "  leading and trailing spaces  ",
    "",
]


# --- a tiny stand-in model and exporter --------------------------------------------------------


# Word pieces of the real vocabulary kept by the tiny model's tokenizer: special tokens,
# characters and the commonest words ("word" is 2773). Loading the whole vocabulary (30,522)
# takes 20 ms, and the tests load it some thirty times.
TINY_VOCAB = 8_000


@functools.cache
def tiny_tokenizer() -> str:
    """The packaged model's tokenizer.json (same normalizer, pre-tokenizer, special tokens and
    ids), its vocabulary cut to the first ``TINY_VOCAB`` word pieces."""
    tokenizer = json.loads((embedding.packaged_model_path() / "tokenizer.json").read_text())
    vocab = tokenizer["model"]["vocab"]
    tokenizer["model"]["vocab"] = {piece: i for piece, i in vocab.items() if i < TINY_VOCAB}
    return json.dumps(tokenizer)


def tiny_model(folder: Path, *, pooling: str = "pooling_mode_mean_tokens") -> Path:
    """A sentence-transformers folder with the real tokenizer (its vocabulary cut: see
    ``tiny_tokenizer``) and an 8-dimension 'model'."""
    folder.mkdir(parents=True)
    (folder / "tokenizer.json").write_text(tiny_tokenizer())
    (folder / "config.json").write_text(json.dumps({"model_type": "bert", "hidden_size": DIM}))
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": MAX_TOKENS}))
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {
            "idx": 1,
            "name": "1",
            "path": "1_Pooling",
            "type": "sentence_transformers.models.Pooling",
        },
        {
            "idx": 2,
            "name": "2",
            "path": "2_Normalize",
            "type": "sentence_transformers.models.Normalize",
        },
    ]
    (folder / "modules.json").write_text(json.dumps(modules))
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(
        json.dumps({"word_embedding_dimension": DIM, pooling: True})
    )
    return folder


TABLE = np.random.default_rng(7).standard_normal((VOCAB, DIM)).astype(np.float32)


class TinyExporter:
    """Stands in for :func:`onnx_export.export`: a graph that looks each word piece up."""

    def __init__(self, *, delay: float = 0.0, fail: bool = False, disagree: bool = False):
        self.calls = 0
        self.delay = delay
        self.fail = fail
        self.disagree = disagree

    def __call__(
        self, source: Path, target: Path, *, precision: str, check: dict[str, np.ndarray]
    ) -> np.ndarray:
        import onnx
        from onnx import TensorProto, helper, numpy_helper

        self.calls += 1
        time.sleep(self.delay)
        if self.fail:
            raise RuntimeError("the exporter broke")
        inputs = [
            helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"])
            for name in onnx_export.INPUTS
        ]
        output = helper.make_tensor_value_info(
            onnx_export.OUTPUT, TensorProto.FLOAT, ["batch", "sequence", DIM]
        )
        graph = helper.make_graph(
            [helper.make_node("Gather", ["table", "input_ids"], [onnx_export.OUTPUT])],
            "tiny",
            inputs,
            [output],
            initializer=[numpy_helper.from_array(TABLE, "table")],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        onnx.save(model, str(target))
        expected = TABLE[check["input_ids"]]
        return -expected if self.disagree else expected


@pytest.fixture
def exporter(monkeypatch: pytest.MonkeyPatch) -> TinyExporter:
    fake = TinyExporter()
    monkeypatch.setattr(onnx_export, "export", fake)
    return fake


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return tiny_model(tmp_path / "tiny-model")


def load(folder: Path, models: Path, backend: str = "onnx-int8") -> onnx_encoder.OnnxEncoder:
    return onnx_encoder.load(folder, models, backend, name="tiny", announce=lambda _line: None)


def expected_vectors(encoder: onnx_encoder.OnnxEncoder, texts: list[str]) -> np.ndarray:
    """What the tiny model should give: the mean of the (cut) word pieces' rows, normalized."""
    rows = []
    for text in texts:
        ids = encoder._tokenizer.encode(text.strip()).ids
        vector = TABLE[ids].mean(axis=0)
        rows.append(vector / np.linalg.norm(vector))
    return np.array(rows, dtype=np.float32)


# --- the cache ---------------------------------------------------------------------------------


def test_built_once_then_loaded_from_the_cache(
    tiny: Path, tmp_path: Path, exporter: TinyExporter
) -> None:
    lines: list[str] = []
    first = onnx_encoder.load(
        tiny, tmp_path / "models", "onnx-int8", name="t", announce=lines.append
    )
    assert exporter.calls == 1
    assert len(lines) == 1 and lines[0].startswith("building the ONNX encoder (onnx-int8)")
    second = load(tiny, tmp_path / "models")
    assert exporter.calls == 1  # reused, not rebuilt
    assert second.built == first.built
    assert first.built.parent == tmp_path / "models"
    assert first.built.name.startswith("tiny-model-int8-")
    assert sorted(p.name for p in first.built.iterdir()) == [
        "encoder.json",
        "model.onnx",
        "tokenizer.json",
    ]
    # Nothing half-built is left beside it.
    assert not [p for p in first.built.parent.iterdir() if p.name.startswith(".")]
    np.testing.assert_array_equal(first.encode(SENTENCES), second.encode(SENTENCES))


@pytest.mark.slow  # several builds
def test_each_backend_and_each_model_builds_its_own(
    tiny: Path, tmp_path: Path, exporter: TinyExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = tmp_path / "models"
    int8 = load(tiny, models, "onnx-int8").built
    fp32 = load(tiny, models, "onnx").built
    assert int8 != fp32 and "-fp32-" in fp32.name
    (tiny / "config.json").write_text(
        json.dumps({"model_type": "bert", "hidden_size": DIM, "x": 1})
    )
    changed = load(tiny, models, "onnx-int8").built
    monkeypatch.setattr(onnx_encoder, "RECIPE", "test-recipe")
    recipe = load(tiny, models, "onnx-int8").built
    assert len({int8, fp32, changed, recipe}) == 4
    assert exporter.calls == 4


def test_same_files_elsewhere_reuse_the_build(
    tiny: Path, tmp_path: Path, exporter: TinyExporter
) -> None:
    """The cache is keyed by the model files' contents: a reinstalled copy (new paths, new
    modification times) finds the same build."""
    first = load(tiny, tmp_path / "models").built
    copy = shutil.copytree(tiny, tmp_path / "elsewhere" / "tiny-model")
    os.utime(copy / "tokenizer.json", ns=(1, 1))
    assert load(copy, tmp_path / "models").built == first
    assert exporter.calls == 1


@pytest.mark.slow  # four builds
@pytest.mark.parametrize("damage", ["corrupt", "truncate", "delete", "manifest"])
def test_a_damaged_or_missing_model_file_is_rebuilt(
    tiny: Path,
    tmp_path: Path,
    exporter: TinyExporter,
    damage: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    built = load(tiny, tmp_path / "models").built
    model = built / onnx_encoder.MODEL_FILE
    original = model.read_bytes()
    data = bytearray(original)
    if damage == "corrupt":
        data[len(data) // 2] ^= 0xFF  # one bit flip in the weights: only the checksum sees it
        model.write_bytes(bytes(data))
    elif damage == "truncate":
        model.write_bytes(bytes(data[: len(data) // 3]))
    elif damage == "delete":
        model.unlink()
    else:
        (built / onnx_encoder.MANIFEST_FILE).write_text("{not json")
    with caplog.at_level(logging.WARNING, logger="retrieval.onnx_encoder"):
        again = load(tiny, tmp_path / "models")
    assert exporter.calls == 2
    assert again.built == built
    assert "rebuilding" in caplog.text or "damaged" in caplog.text
    assert model.read_bytes() == original  # the export is deterministic
    np.testing.assert_allclose(
        again.encode(SENTENCES[:3]), expected_vectors(again, SENTENCES[:3]), atol=1e-6
    )


@pytest.mark.slow  # loaders in threads, waiting on a lock
def test_loaders_at_once_build_once(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two loaders at the same moment (threads here; processes take the same file lock): one
    builds, the other waits and loads what it built."""
    slow = TinyExporter(delay=0.5)
    monkeypatch.setattr(onnx_export, "export", slow)
    found: list[Path] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            found.append(load(tiny, tmp_path / "models").built)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and len(found) == 3 and len(set(found)) == 1
    assert slow.calls == 1


def test_a_failed_build_leaves_nothing_and_says_what_to_do(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(onnx_export, "export", TinyExporter(fail=True))
    with pytest.raises(ModelNotFoundError, match="QUOTEDESK_ENCODER=torch"):
        load(tiny, tmp_path / "models")
    monkeypatch.setattr(onnx_export, "export", TinyExporter(disagree=True))
    with pytest.raises(ModelNotFoundError, match="does not agree with torch"):
        load(tiny, tmp_path / "models")
    left = [p.name for p in (tmp_path / "models").iterdir() if p.is_dir() and p.name != "sources"]
    assert left == []


@pytest.mark.parametrize(
    "change",
    ["dense", "max_pooling", "no_tokenizer"],
)
def test_models_it_cannot_run_are_refused_before_building(
    tiny: Path, tmp_path: Path, exporter: TinyExporter, change: str
) -> None:
    if change == "dense":
        modules = json.loads((tiny / "modules.json").read_text())
        modules.append({"idx": 3, "path": "3_Dense", "type": "sentence_transformers.models.Dense"})
        (tiny / "modules.json").write_text(json.dumps(modules))
    elif change == "max_pooling":
        (tiny / "1_Pooling" / "config.json").write_text(
            json.dumps({"word_embedding_dimension": DIM, "pooling_mode_max_tokens": True})
        )
    else:
        (tiny / "tokenizer.json").unlink()
    with pytest.raises(ModelNotFoundError, match="QUOTEDESK_ENCODER=torch"):
        load(tiny, tmp_path / "models")
    assert exporter.calls == 0


def test_reads_the_packaged_models_configuration() -> None:
    spec = onnx_encoder.read_spec(embedding.packaged_model_path())
    assert spec == onnx_encoder.ModelSpec(
        dimension=384, max_tokens=256, pooling="mean", lower_case=False
    )


# --- encoding ----------------------------------------------------------------------------------


def test_batches_sorted_by_length_come_back_in_order(
    tiny: Path, tmp_path: Path, exporter: TinyExporter
) -> None:
    encoder = load(tiny, tmp_path / "models")
    encoder.batch_size = 3
    texts = [*SENTENCES, "a much longer text " * 20, "short"]
    seen: list[int] = []
    vectors = encoder.encode(texts, progress=seen.append)
    assert vectors.shape == (len(texts), DIM) and vectors.dtype == np.float32
    assert sum(seen) == len(texts) and max(seen) <= 3
    np.testing.assert_allclose(vectors, expected_vectors(encoder, texts), atol=1e-6)
    one_by_one = np.vstack([encoder.encode_query(t) for t in texts])
    np.testing.assert_allclose(vectors, one_by_one, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert encoder.encode([]).shape == (0, DIM)


def test_long_texts_are_cut_for_encoding_but_counted_whole(
    tiny: Path, tmp_path: Path, exporter: TinyExporter
) -> None:
    encoder = load(tiny, tmp_path / "models")
    text = " ".join(["word"] * 50)
    assert encoder.count_tokens(text) == 50  # no special tokens, not cut
    assert encoder.max_tokens == MAX_TOKENS
    assert len(encoder._tokenizer.encode(text).ids) == MAX_TOKENS


def test_cls_pooling_takes_the_first_token(tmp_path: Path, exporter: TinyExporter) -> None:
    folder = tiny_model(tmp_path / "cls-model", pooling="pooling_mode_cls_token")
    encoder = load(folder, tmp_path / "models")
    cls = TABLE[encoder._tokenizer.token_to_id("[CLS]")]
    np.testing.assert_allclose(
        encoder.encode_query("anything")[0], cls / np.linalg.norm(cls), atol=1e-6
    )


def test_pooling_is_a_masked_mean_then_unit_length() -> None:
    hidden = np.arange(2 * 3 * 2, dtype=np.float32).reshape(2, 3, 2)
    mask = np.array([[1, 1, 0], [1, 0, 0]])
    pooled = onnx_encoder.pool(hidden, mask, "mean")
    means = np.array([hidden[0, :2].mean(0), hidden[1, :1].mean(0)])
    np.testing.assert_allclose(
        pooled, means / np.linalg.norm(means, axis=1, keepdims=True), rtol=1e-6
    )


# --- choosing the backend ----------------------------------------------------------------------


def test_the_backend_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("QUOTEDESK_ENCODER", raising=False)
    assert Settings.resolve(data_dir=tmp_path).encoder == DEFAULT_ENCODER == "onnx-int8"
    monkeypatch.setenv("QUOTEDESK_ENCODER", " Torch ")
    assert Settings.resolve(data_dir=tmp_path).encoder == "torch"
    assert Settings.resolve(data_dir=tmp_path, encoder="onnx").encoder == "onnx"
    monkeypatch.setenv("QUOTEDESK_ENCODER", "tensorflow")
    with pytest.raises(InvalidArgumentError, match="onnx-int8, onnx, torch"):
        Settings.resolve(data_dir=tmp_path)
    assert parse_encoder("") == DEFAULT_ENCODER


def test_the_desk_loads_the_configured_backend_from_its_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded: list[tuple[object, ...]] = []

    def fake_load(model_path: str | None, *, backend: str, models: Path | None) -> str:
        loaded.append((model_path, backend, models))
        return "an encoder"

    monkeypatch.setattr(embedding, "load_encoder", fake_load)
    monkeypatch.setattr(embedding, "shared_torch_encoder", lambda path: f"torch {path}")
    embedding._shared_onnx.cache_clear()
    try:
        for backend in ("onnx-int8", "onnx", "torch"):
            desk = QuoteDesk(Settings.resolve(data_dir=tmp_path / "d", encoder=backend))
            got = desk.encoder
            assert got == ("torch None" if backend == "torch" else "an encoder")
        assert loaded == [
            (None, "onnx-int8", (tmp_path / "d").resolve() / "models"),
            (None, "onnx", (tmp_path / "d").resolve() / "models"),
        ]
        # QUOTEDESK_MODEL_CACHE: one build shared by several data dirs.
        monkeypatch.setenv("QUOTEDESK_MODEL_CACHE", str(tmp_path / "shared"))
        assert QuoteDesk(Settings.resolve(data_dir=tmp_path / "e")).encoder == "an encoder"
        assert loaded[-1] == (None, "onnx-int8", (tmp_path / "shared").resolve())
    finally:
        embedding._shared_onnx.cache_clear()


def test_model_build_command(
    tiny: Path, tmp_path: Path, exporter: TinyExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUOTEDESK_MODEL", str(tiny))
    monkeypatch.delenv("QUOTEDESK_ENCODER", raising=False)
    data = tmp_path / "data"
    runner = CliRunner()
    first = runner.invoke(cli, ["model", "build", "--data-dir", str(data)])
    assert first.exit_code == 0, first.output
    assert "tiny-model/onnx-int8/" in first.output and str(data / "models") in first.output
    again = runner.invoke(cli, ["model", "build", "--data-dir", str(data)])
    assert again.exit_code == 0 and exporter.calls == 1
    fp32 = runner.invoke(cli, ["model", "build", "--encoder", "onnx", "--data-dir", str(data)])
    assert fp32.exit_code == 0 and exporter.calls == 2
    torch = runner.invoke(cli, ["model", "build", "--encoder", "torch", "--data-dir", str(data)])
    assert torch.exit_code == 0 and "needs no build" in torch.output
    unknown = runner.invoke(cli, ["model", "build", "--encoder", "tf", "--data-dir", str(data)])
    assert unknown.exit_code == 2 and "onnx-int8, onnx, torch" in unknown.output
    (tiny / "tokenizer.json").unlink()
    refused = runner.invoke(cli, ["model", "build", "--encoder", "onnx", "--data-dir", str(data)])
    assert refused.exit_code == 1 and "QUOTEDESK_ENCODER=torch" in refused.output


# --- the real model (slow) ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def onnx_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with both ONNX builds of the packaged model (built once a session)."""
    data = tmp_path_factory.mktemp("onnx-data")
    for backend in ("onnx", "onnx-int8"):
        embedding.load_encoder(backend=backend, models=data / "models")
    return data


@pytest.mark.slow
@pytest.mark.parametrize(("backend", "least"), [("onnx", 0.99), ("onnx-int8", 0.97)])
def test_vectors_agree_with_the_torch_model(
    onnx_models: Path, encoder: embedding.TorchEncoder, backend: str, least: float
) -> None:
    onnx = embedding.load_encoder(backend=backend, models=onnx_models / "models")
    long = " ".join(SENTENCES * 6)  # beyond 256 word pieces: cut the same way
    texts = [*SENTENCES, long]
    mine, theirs = onnx.encode(texts), encoder.encode(texts)
    cosines = np.sum(mine * theirs, axis=1)
    assert cosines.min() > least, cosines
    query = float(onnx.encode_query(SENTENCES[0])[0] @ theirs[0])
    assert query > least
    assert [onnx.count_tokens(t) for t in texts] == [encoder.count_tokens(t) for t in texts]
    assert (onnx.dimension, onnx.max_tokens) == (encoder.dimension, encoder.max_tokens)
    assert onnx.name == f"all-MiniLM-L6-v2/{backend}/{onnx_encoder.RECIPE}" != encoder.name


ASK_WITHOUT_TORCH = """
import json, sys
from bot.cli import cli
try:
    cli.main(args=sys.argv[1:], prog_name="quotedesk", standalone_mode=False)
finally:
    heavy = ("torch", "sentence_transformers", "transformers", "onnx")
    print(json.dumps(sorted(m for m in heavy if m in sys.modules)), file=sys.stderr)
"""


@pytest.mark.slow
def test_a_question_in_a_fresh_process_imports_no_torch(onnx_models: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(onnx_models, data)
    env = {**os.environ, "QUOTEDESK_DATA_DIR": str(data), "QUOTEDESK_ENCODER": "onnx-int8"}
    env.pop("DATABASE_URL", None)
    env.pop("QUOTEDESK_MODEL", None)

    def ask() -> subprocess.CompletedProcess[str]:
        question = "why did Baku skip the Washington meeting?"
        return subprocess.run(
            [sys.executable, "-c", ASK_WITHOUT_TORCH, "ask", "--json", question],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    for _ in range(2):  # the first ingests the seeds, the second only answers
        done = ask()
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["quotes"][0]["source"][:3] in {"000", "001"}
        assert done.stderr.splitlines()[-1] == "[]", done.stderr
        assert "building the ONNX encoder" not in done.stderr
