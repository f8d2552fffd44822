"""How retrieval and ranking are tuned: :class:`RetrievalConfig` (every weight, depth, threshold
and limit, in one place) and :class:`Mode`. Pure values: nothing here reads the disk or the
environment (that is :mod:`retrieval.settings`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from retrieval.errors import InvalidArgumentError

# RetrievalConfig.dense_index: chosen by size, or one kind of FAISS index forced.
DENSE_INDEXES = ("auto", "flat", "hnsw", "ivf-sq8", "ivf-pq")


class Mode(StrEnum):
    """Which evidence ranks the passages."""

    DENSE = "dense"  # cosine similarity of sentence embeddings alone
    LEXICAL = "lexical"  # BM25 alone
    HYBRID = "hybrid"  # both, fused (the default)


@dataclass(frozen=True)
class RetrievalConfig:
    """Every weight, depth, threshold and limit of retrieval and ranking.

    The defaults are what the README's figures were measured with; change one to try another
    weighting without editing code (``quotedesk eval --set dense_weight=0.5``).

    Example:
        >>> RetrievalConfig().with_overrides(["dense_weight=0.5"]).dense_weight
        0.5
    """

    mode: Mode = Mode.HYBRID
    # Quotes per answer unless asked otherwise; and the most one may ask for (every front end).
    default_k: int = 5
    max_k: int = 50
    # The longest question read, in characters. The encoder reads about 256 word pieces (some
    # 1,000 characters of English) and ignores the rest, and a pasted page only slows the
    # lexical and time-word search; a longer question gets a hint instead.
    max_question_chars: int = 1000

    # Candidates taken from each retriever before fusion. 30, chosen on rtqa-2022 against 50
    # (as of each question's week 0.520/0.693 against 0.493/0.693; as of today 0.480/0.653
    # against 0.467/0.667; 20 lost answers), checked on rtqa-2022-autumn (the same either
    # way) and the seeds (the same): reading, scoring and merging fewer costs a quarter less.
    candidates: int = 30
    # ... or this many times the quotes wanted, when more are asked for ("more quotes").
    candidates_per_quote: int = 4
    # Date filters drop candidates after the search, so a filtered search goes this much deeper.
    filtered_depth: int = 20
    # From this many passages, a hybrid question's BM25 search runs on a thread beside the
    # question's encoding and its FAISS search (all release the GIL): at a million passages on
    # two cores, 19.6 against 22.9 ms an answer. Below, BM25 takes a fraction of a
    # millisecond and a thread is not worth it.
    parallel_search_from: int = 50_000

    # Hybrid score weights, tuned together on the seed golden set and rtqa-2022: the passage's
    # cosine, its document title's cosine, BM25 over the query's best, and word coverage.
    dense_weight: float = 0.6
    title_weight: float = 0.1
    bm25_weight: float = 0.1
    coverage_weight: float = 0.1
    # For "latest" questions, added for the newest document among candidates: enough to
    # reorder near-ties, not to lift an irrelevant passage.
    recency_weight: float = 0.05
    # For questions naming a time ("this week", "in October 2021"), added for documents dated
    # in it: a preference, not a filter (since:/before: filter).
    period_weight: float = 0.2
    # Search without a relative time phrase ("this week" says when, not what; calendar words
    # such as "in October" stay, as the answer may say them).
    strip_time_words: bool = True

    # A follow-up in a thread is read with the thread's earlier questions: the newest this many
    # of them, and their question vector weighed this much against the follow-up's (which
    # stays what the answer must be about). Chosen on tests/golden/threads.jsonl, checked on
    # tests/golden/check/ (see the README).
    context_questions: int = 2
    context_weight: float = 0.5
    # A question limited to some collections drops the others' candidates after the search,
    # so it searches this much deeper.
    collection_depth: int = 4

    # Below this cosine, the best passage is not an answer (seeds: in-domain >= 0.32,
    # off-topic <= 0.21).
    min_similarity: float = 0.25
    # Sources offered as "might be related" when nothing answers.
    related: int = 3

    # Passages from different documents at this cosine say the same thing (rewrites score 0.9+,
    # different paragraphs of one story stay below 0.85) ...
    duplicate_cosine: float = 0.9
    # ... or share this much of the smaller one's distinct words (copies packed differently) ...
    duplicate_overlap: float = 0.6
    # ... at a cosine of at least this: reading the words of every candidate cost 2-3 ms an
    # answer, and no copy found by shared words was below 0.53 (rtqa-2022, where it was
    # chosen) or 0.63 (rtqa-2022-autumn, checked); half the pairs are below 0.4.
    duplicate_overlap_cosine: float = 0.4

    # Quotes whose tied sentences are encoded to pick the highlight (otherwise the first of the
    # sentences holding most of the question's words). 0: on rtqa-2022 encoding lowered
    # hybrid highlight@1 (0.596 against 0.635 without), checked on rtqa-2022-autumn (0.627
    # against 0.657); on the seeds 0.935 either way (torch: 0.957 with it); 12-30 ms an answer.
    dense_highlight_quotes: int = 0

    # The dense index: "auto" chooses by corpus size (below); "flat", "hnsw", "ivf-sq8" or
    # "ivf-pq" forces one (quotedesk bench compares them).
    dense_index: str = "auto"
    # Exact search up to this many passages (a few ms a question); IVF-SQ8 beyond it.
    exact_search_limit: int = 50_000
    # IVF lists: this times the square root of the passage count (4,000 at a million). Finer
    # lists hold a question's nearest passages in fewer of them. At a million passages, for
    # the 234 questions of rtqa-2022 and its autumn set, recall@10 against exact search and
    # the search's time: 1,000 lists probing 32, 0.921 in 2.7 ms; 2,000 probing 64, 0.960 in
    # 3.4 ms; 4,000 probing 48, 0.962 in 1.6 ms. (Held-out passages, nearer each other than
    # questions are to passages, reached 0.986 with 1,000 lists.) Training takes longer.
    ivf_lists_per_root: float = 4.0
    # An IVF index is updated in place (new passages added to the lists trained before) until
    # the corpus it was trained for has grown or shrunk so far that the lists it would get now
    # are this many times more or fewer (the corpus 4 times larger or smaller: lists follow
    # its square root); then it is trained anew, in the background. Recall is not what runs
    # out: trained on 250,000 passages of the bench's fill and grown to a million, recall@10
    # against exact search stayed 0.974-0.980 (questions) and 0.980-0.988 (held-out passages)
    # at 1.5, 2, 3 and 4 times, where one trained at a million gets 0.974 / 0.992; the lists
    # grow longer, so each probe reads more (twice as much at 4 times), and that is bounded.
    ivf_retrain_factor: float = 2.0
    # A change to the corpus of at most this many passages, or this share of it, updates the
    # indexes in place (seconds at a million passages); a larger one builds them anew.
    update_passages: int = 20_000
    update_share: float = 0.1
    # IVF lists searched per question: recall@10 against exact search at least 0.95 at a
    # million passages, for questions (quotedesk bench measures it).
    ivf_probe: int = 48
    # IVF lists are trained on this many vectors each, a sample: k-means over a million
    # vectors would take minutes and place the centroids no better.
    ivf_train_per_list: int = 64
    # ivf-pq only: bytes per vector (4 dimensions a byte); recall stays below SQ8's.
    ivf_pq_bytes: int = 96
    # HNSW (when forced): graph degree, build and search breadth; recall@10 near 0.99, but
    # building takes minutes per 100,000 passages on two cores.
    hnsw_neighbors: int = 32
    hnsw_ef_construction: int = 40
    hnsw_ef_search: int = 128

    def __post_init__(self) -> None:
        object.__setattr__(self, "mode", parse_mode(self.mode))
        if not 1 <= self.default_k <= self.max_k:
            raise InvalidArgumentError(f"default_k must be between 1 and max_k ({self.max_k})")
        if self.dense_index not in DENSE_INDEXES:
            raise InvalidArgumentError(
                f"dense_index must be one of {', '.join(DENSE_INDEXES)}, not {self.dense_index!r}"
            )

    def check_k(self, k: int) -> int:
        """``k`` when it is a number of quotes one may ask for, else a clear error."""
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= self.max_k:
            raise InvalidArgumentError(
                f"k must be a whole number from 1 to {self.max_k}, not {k!r}"
            )
        return k

    def with_overrides(self, assignments: Iterable[str]) -> RetrievalConfig:
        """A copy with ``field=value`` assignments applied, each value read as the field's type.

        Raises:
            InvalidArgumentError: An unknown field or a value that cannot be read.
        """
        types = {f.name: type(getattr(self, f.name)) for f in dataclasses.fields(self)}
        changes: dict[str, object] = {}
        for assignment in assignments:
            name, sep, raw = assignment.partition("=")
            name = name.strip().replace("-", "_")
            if not sep or name not in types:
                known = ", ".join(sorted(types))
                raise InvalidArgumentError(f"--set takes FIELD=VALUE with FIELD one of: {known}")
            try:
                changes[name] = _read(types[name], raw.strip(), name)
            except ValueError as exc:
                raise InvalidArgumentError(f"--set {name}: cannot read {raw!r}") from exc
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, object]:
        return {f.name: str(v) if isinstance(v, Mode) else v for f, v in _items(self)}


def _read(kind: type, raw: str, name: str) -> object:
    if name == "mode":
        return parse_mode(raw)
    if kind is bool:
        if raw.lower() not in _BOOLEAN:
            raise ValueError(raw)
        return _BOOLEAN[raw.lower()]
    return kind(raw)


_BOOLEAN = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def parse_mode(value: str | Mode) -> Mode:
    """The :class:`Mode` named ``value``.

    Raises:
        InvalidArgumentError: ``value`` names no mode.
    """
    try:
        return Mode(str(value).strip().lower())
    except ValueError:
        names = ", ".join(m.value for m in Mode)
        raise InvalidArgumentError(f"mode must be one of {names}, not {value!r}") from None


def _items(config: RetrievalConfig) -> list[tuple[dataclasses.Field[object], object]]:
    return [(f, getattr(config, f.name)) for f in dataclasses.fields(config)]
