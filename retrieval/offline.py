"""What the model libraries (sentence-transformers, transformers, huggingface_hub, tokenizers)
read from the environment, set by the loaders just before they import them: never call the hub,
no tokenizer thread pool, no progress bars, errors only. Importing a quotedesk module leaves
``os.environ`` alone; loading a model sets these."""

from __future__ import annotations

import os


def prepare() -> None:
    """Set the model libraries' environment: called first thing by every loader
    (:func:`retrieval.embedder.load_encoder`, the torch encoder, the ONNX export), before a
    model library is imported (huggingface_hub reads ``HF_HUB_OFFLINE`` once, when imported)
    or a tokenizer runs. Nothing is ever downloaded: the models are local folders.

    Idempotent. The hub is forced offline; the other variables are left as the user set them.
    """
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
