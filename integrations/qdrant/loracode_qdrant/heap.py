"""Give the C heap's free pages back to the operating system between embedding calls (glibc only).

Why: a CPU forward pass allocates activations of a new size for each batch shape. glibc serves them
from its heap once its mmap threshold has risen, and the holes they leave when freed stay resident, so
``loracode index`` grew by tens of MB per thousand chunks (docs/benchmarks.md, "Cold start").
``malloc_trim(0)`` after each embedding call returns those free pages; it changes no allocator setting
and frees nothing in use. Elsewhere (musl, macOS, Windows) this is a no-op.

Example:
    >>> release_free_heap() in (True, False)
    True
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import platform


@functools.cache
def _malloc_trim() -> object | None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def release_free_heap() -> bool:
    """Return free heap memory to the OS; ``True`` if the C library could do it (glibc)."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)  # type: ignore[operator]
    return True
