"""The corpus store and the bot's store on their own, on SQLite and on PostgreSQL: records in,
records out, no model."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from bot.store import BotStore, Feedback
from retrieval.records import NewDocument, NewPassage
from retrieval.store import Store
from tests.helpers import unit


@pytest.fixture
def store(database_url):  # type: ignore[no-untyped-def]
    """A store on an empty database: SQLite and PostgreSQL in turn."""
    opened = Store(database_url)
    yield opened
    opened.close()


def document(  # type: ignore[no-untyped-def]
    path: str,
    *,
    collection: str = "corpus",
    root: str = "/corpus",
    title: str | None = "A title",
    **kw,
):
    text = "Baku withdrew. Moscow agreed."
    return NewDocument(
        collection=collection,
        path=path,
        root=root,
        content_hash=kw.get("content_hash", "h-" + path),
        date=kw.get("day"),
        title=title,
        title_vector=unit([0, 1, 0]) if title else None,
        passages=(
            NewPassage(0, 14, text[0:14], unit([1, 0, 0])),
            NewPassage(15, 29, text[15:29], unit([0, 0, 1])),
        ),
    )


def test_documents_and_passages_come_back_as_records(store):
    assert store.corpus_version() is None
    store.put_documents([document("a.txt", day=date(2023, 11, 28)), document("b.txt", title=None)])
    version = store.corpus_version()
    assert version and store.document_count() == 2 and store.passage_count() == 4
    passages = store.passages([1, 2, 3, 99])
    assert sorted(passages) == [1, 2, 3]
    first = passages[1]
    assert (first.text, first.start, first.end) == ("Baku withdrew.", 0, 14)
    assert first.document.source.path == "a.txt" and first.document.date == date(2023, 11, 28)
    np.testing.assert_allclose(first.vector, [1, 0, 0])
    np.testing.assert_allclose(first.document.title_vector, [0, 1, 0])
    assert passages[3].document.title_vector is None and passages[3].document.date is None
    assert [(i.source.path, i.passages) for i in store.sources()] == [("a.txt", 2), ("b.txt", 2)]
    assert {i.source.collection for i in store.sources()} == {"corpus"}
    assert first.document.source.collection == "corpus"
    assert store.titled_document_count() == (1, 1)


def test_replacing_a_document_removes_its_old_passages_and_title(store):
    store.put_documents([document("a.txt")])
    old = store.corpus_version()
    stored = store.stored_files("corpus")["a.txt"]
    assert stored.root == "/corpus" and store.stored_files("other") == {}
    replaced = store.put_documents([document("a.txt", title=None)])
    assert (replaced.added, replaced.replaced) == (0, 1)
    assert store.corpus_version() != old
    assert store.document_count() == 1 and store.passage_count() == 2
    assert store.titled_document_count() == (0, 0)


def test_embeddings_and_texts_stream_in_id_order(store):
    store.put_documents([document("a.txt"), document("b.txt", title=None)])
    batches = list(store.embeddings(batch=3))
    assert [len(ids) for ids, _ in batches] == [3, 1]
    assert np.concatenate([ids for ids, _ in batches]).tolist() == [1, 2, 3, 4]
    texts = list(store.passage_texts(batch=3))
    assert [(pid, title) for pid, title, _ in texts] == [
        (1, "A title"),
        (2, "A title"),
        (3, None),
        (4, None),
    ]


def test_prune_touches_only_its_own_collection(store):
    other = {"collection": "other", "root": "/other"}
    store.put_documents(
        [
            document("a.txt"),
            document("b.txt"),
            document("b.txt", **other),
            document("c.txt", **other),
        ]
    )
    assert store.prune("corpus", keep={"a.txt"}) == 1
    assert [(i.source.collection, i.source.path) for i in store.sources()] == [
        ("corpus", "a.txt"),
        ("other", "b.txt"),
        ("other", "c.txt"),
    ]
    version = store.corpus_version()
    assert store.prune("corpus", keep={"a.txt"}) == 0
    assert store.corpus_version() == version  # nothing removed, nothing to reload


def test_the_same_path_in_two_collections_is_two_documents(store):
    store.put_documents([document("report.txt"), document("report.txt", collection="b", root="/b")])
    assert store.document_count() == 2
    files = {name: store.stored_files(name)["report.txt"] for name in ("corpus", "b")}
    assert files["corpus"].document_id != files["b"].document_id
    # Replacing one leaves the other.
    store.put_documents([document("report.txt", title=None, collection="b", root="/b")])
    assert store.document_count() == 2 and store.titled_document_count() == (1, 1)
    assert [(c.name, c.roots, c.documents) for c in store.collections()] == [
        ("b", ("/b",), 1),
        ("corpus", ("/corpus",), 1),
    ]


def test_a_collection_moved_to_another_folder(store):
    store.put_documents([document("a.txt"), document("b.txt")])
    version = store.corpus_version()
    assert store.move_collection("corpus", ["a.txt"], root="/moved") == 1
    assert store.move_collection("corpus", [], root="/moved") == 0
    assert [c.roots for c in store.collections()] == [("/corpus", "/moved")]
    assert store.stored_files("corpus")["a.txt"].root == "/moved"
    assert store.corpus_version() == version  # the text did not change: no index to rebuild


# --- the bot's store, on the corpus store's engine ---------------------------------------------


def test_the_bot_store_shares_the_corpus_stores_engine(store):
    records = BotStore(store)
    assert records.engine is store.engine and records.url == store.url


def test_deliveries_are_claimed_once(store):
    records = BotStore(store)
    assert records.claim_delivery("Ev1") and not records.claim_delivery("Ev1")
    assert records.claim_delivery("Ev2")
    assert not BotStore(store).claim_delivery("Ev2")  # another copy of the bot, same table


def test_feedback_round_trips_and_history_is_pruned(store):
    records = BotStore(store)
    quotes = ({"passage_id": 1, "source": "a.txt"},)
    records.record_feedback(Feedback("up", "why?", quotes, user_id="U1", channel_id="C1"))
    records.record_feedback(Feedback("down", "how?", (), channel_id="C2"))
    [kept] = records.feedback(channel_id="C1")
    assert kept.created_at is not None
    assert dataclasses.replace(kept, created_at=None) == Feedback("up", "why?", quotes, "U1", "C1")
    assert len(records.feedback()) == 2
    records.claim_delivery("Ev1")
    assert records.prune_history(before=datetime.now(UTC) - timedelta(days=1)) == 0
    assert records.prune_history(before=datetime.now(UTC) + timedelta(seconds=1)) == 3
    assert records.feedback() == [] and records.claim_delivery("Ev1")


def test_meta(store):
    assert store.meta("recipe") is None
    store.set_meta("recipe", "r1")
    store.set_meta("recipe", "r2")
    assert store.meta("recipe") == "r2"
