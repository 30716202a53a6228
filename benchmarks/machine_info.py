"""One description of the machine a benchmark ran on, for every results file.

The dev machine is "2 cores" on every session, but not always the same CPU: one session's had AMX and
AVX-512 BF16, a later one's only AVX2, where bfloat16 is emulated and ``dtype="auto"`` takes float32.
Latency figures from two such machines are not comparable, so each results file names the CPU model
and what torch's CPU kernels can use on it.

Example:
    >>> "CPUs" in machine_description()
    True
"""

from __future__ import annotations

import os
import platform


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` (``platform.processor()`` elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine_description() -> str:
    """``"x86_64 2 CPUs (AMD EPYC, torch CPU capability AVX2; 2-core CPU dev machine, shared)"``."""
    try:
        import torch

        capability = f", torch CPU capability {torch.backends.cpu.get_cpu_capability()}"
    except ImportError:  # a stdlib-only benchmark process
        capability = ""
    return (f"{platform.machine()} {os.cpu_count()} CPUs ({cpu_model()}{capability}; "
            "2-core CPU dev machine, shared)")  # fmt: skip
