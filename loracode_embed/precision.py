"""Choosing the device and the dtype a model computes in, including the CPU fast path (bfloat16).

On CPU the default is float32: vectors then match plain ``sentence-transformers`` to 1e-5. ``bfloat16``
is the CPU fast path: on CPUs whose oneDNN kernels compute bfloat16 (x86 with AVX-512 or AMX, Arm with
BF16) it embeds 256-token code chunks 2.5-3x as fast (2-core dev machine), with vectors at cosine
>= 0.9999 to float32 and retrieval MRR within 0.3% (docs/benchmarks.md, "CPU fast path"). Elsewhere it
is emulated and slower than float32, so asking for it there logs a warning.

Example:
    >>> resolve_device_dtype("cpu", None)
    ('cpu', torch.float32)
    >>> resolve_device_dtype("cpu", "bf16")
    Traceback (most recent call last):
    ...
    ValueError: dtype must be one of auto, float32, float16, bfloat16 or a torch.dtype, got 'bf16'
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

#: The dtype names accepted by ``LoRACodeModel.from_pretrained(dtype=...)`` and the CLIs' ``--dtype``
#: (a plain tuple: the CLIs build their parsers without importing torch). ``auto`` is the fastest sound
#: choice for the machine: float16 on CUDA; on CPU bfloat16 where the CPU has it in hardware, else float32.
DTYPES: tuple[str, ...] = ("auto", "float32", "float16", "bfloat16")


def cpu_supports_bfloat16() -> bool:
    """Whether this CPU runs bfloat16 matrix products in hardware (oneDNN's check), not emulated.

    Example:
        >>> isinstance(cpu_supports_bfloat16(), bool)
        True
    """
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a torch built without oneDNN
        return False


def resolve_device_dtype(device: str | None, dtype: str | torch.dtype | None) -> tuple[str, torch.dtype]:
    """The device (default CUDA if available, else CPU) and dtype (default float16 on CUDA, float32 on CPU).

    ``dtype="auto"`` is float16 on CUDA; on CPU bfloat16 if :func:`cpu_supports_bfloat16`, else float32.

    Raises:
        ValueError: ``dtype`` is neither one of :data:`DTYPES` nor a ``torch.dtype``; names the value.

    Example:
        >>> resolve_device_dtype("cpu", "bfloat16")
        ('cpu', torch.bfloat16)
    """
    import torch

    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    cuda = str(device).startswith("cuda")
    if dtype is None:
        resolved = torch.float16 if cuda else torch.float32
    elif dtype == "auto":
        resolved = torch.float16 if cuda else torch.bfloat16 if cpu_supports_bfloat16() else torch.float32
    elif isinstance(dtype, torch.dtype):
        resolved = dtype
    elif isinstance(dtype, str) and dtype in DTYPES:
        resolved = getattr(torch, dtype)
    else:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)} or a torch.dtype, got {dtype!r}")
    if str(device) == "cpu" and resolved == torch.bfloat16 and not cpu_supports_bfloat16():
        logger.warning(
            "dtype=bfloat16 on a CPU without hardware bfloat16 (AVX-512/AMX or Arm BF16): it is emulated "
            "and likely slower than float32; drop dtype to use float32"
        )
    return str(device), resolved
