"""Builds the ONNX encoder's model from a sentence-transformers folder, offline: the only module
of the ONNX backends that imports torch, and only while building (``retrieval.onnx_encoder``
calls :func:`export` once per model, recipe and data directory).

The transformer is exported as ``input_ids, attention_mask, token_type_ids ->
last_hidden_state`` (opset 17, batch and sequence dynamic); pooling and normalization stay in
numpy. ``int8`` then quantizes the weights with ONNX Runtime's dynamic quantization: per
channel, symmetric int8, reduced range (7 bits: no overflow in the AVX2 kernels), activations
quantized at run time.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from retrieval import offline

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT = "last_hidden_state"
OPSET = 17


def export(
    source: Path, target: Path, *, precision: str, check: dict[str, np.ndarray]
) -> np.ndarray:
    """Write ``target`` (an ``.onnx`` file) from the transformer in ``source``.

    Args:
        source: A sentence-transformers folder (``config.json`` and the weights at its top).
        target: The file to write. For ``int8``, the fp32 export is written beside it first
            (``*.fp32.onnx``) and removed.
        precision: ``fp32`` or ``int8``.
        check: Token arrays (``input_ids``, ``attention_mask``, ``token_type_ids``) of a few
            texts: the torch model's output for them is returned, to check the export with.

    Returns:
        The torch model's ``last_hidden_state`` for ``check``, float32.
    """
    offline.prepare()  # before transformers, and so huggingface_hub, is imported
    import torch
    from transformers import AutoModel

    class Hidden(torch.nn.Module):
        """transformers 5's ``forward`` takes keyword arguments; the export passes positions."""

        def __init__(self, model: torch.nn.Module):
            super().__init__()
            self.model = model

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,
            token_type_ids: torch.Tensor,
        ) -> torch.Tensor:
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    model = Hidden(
        AutoModel.from_pretrained(str(source), attn_implementation="eager", local_files_only=True)
    ).eval()
    sample = tuple(torch.from_numpy(np.asarray(check[name], dtype=np.int64)) for name in INPUTS)
    fp32 = target if precision == "fp32" else target.with_suffix(".fp32.onnx")
    axes = {name: {0: "batch", 1: "sequence"} for name in (*INPUTS, OUTPUT)}
    # The tracer warns of the shapes it fixes; none of them depends on batch or length here.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = model(*sample).numpy().astype(np.float32)
        torch.onnx.export(
            model,
            sample,
            str(fp32),
            input_names=list(INPUTS),
            output_names=[OUTPUT],
            opset_version=OPSET,
            dynamic_axes=axes,
            dynamo=False,
        )
    if precision == "int8":
        quantize(fp32, target)
        fp32.unlink()
    return expected


def quantize(fp32: Path, target: Path) -> None:
    """Dynamic int8: weights per channel, symmetric, reduced range; activations at run time."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _quiet_root_log():
        quantize_dynamic(
            str(fp32),
            str(target),
            weight_type=QuantType.QInt8,
            per_channel=True,
            reduce_range=True,
            extra_options={"WeightSymmetric": True, "DefaultTensorType": onnx.TensorProto.FLOAT},
        )


@contextlib.contextmanager
def _quiet_root_log() -> Iterator[None]:
    """The quantizer logs its advice on the root logger (configuring it when nothing has):
    drop those records, and leave the root logger as it was."""
    root = logging.getLogger()
    placeholder = logging.NullHandler() if not root.handlers else None
    if placeholder:
        root.addHandler(placeholder)

    def keep(record: logging.LogRecord) -> bool:
        return "onnxruntime" not in record.pathname or record.levelno >= logging.ERROR

    root.addFilter(keep)
    try:
        yield
    finally:
        root.removeFilter(keep)
        if placeholder:
            root.removeHandler(placeholder)
