"""Trainer callbacks: tell the loss which step it is on, and refuse non-finite logged losses.

The loss itself raises on a NaN/inf value (see :mod:`loracode_embed.training.loss`); the ``on_log``
check is a second line that also catches a non-finite gradient norm, so nothing non-finite is ever
averaged into a log line (the runner also turns off transformers' ``logging_nan_inf_filter``).
"""

from __future__ import annotations

import logging
import math
from typing import Any

from loracode_embed.training._deps import require
from loracode_embed.training.loss import NonFiniteLossError, check_finite

logger = logging.getLogger(__name__)

_TrainerCallback = require("transformers").TrainerCallback


class FiniteLossCallback(_TrainerCallback):
    """Keeps ``loss.step`` current and raises :class:`NonFiniteLossError` on a non-finite logged value."""

    def __init__(self, loss: Any) -> None:
        self.loss = loss

    def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.loss.step = state.global_step + 1

    def on_log(
        self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        logs = logs or {}
        if "loss" in logs:
            check_finite(logs["loss"], state.global_step)
        norm = logs.get("grad_norm")
        if isinstance(norm, (int, float)) and not math.isfinite(norm):
            raise NonFiniteLossError(
                f"Gradient norm is {norm} at step {state.global_step}; stopping. Lower learning_rate or "
                "use precision: bf16/fp32, then resume from the last checkpoint with --resume."
            )


class CandidateLogCallback(_TrainerCallback):
    """Adds ``candidates`` (positives scored per anchor: batch x devices when gathered) to each log line."""

    def __init__(self, loss: Any) -> None:
        self.loss = loss

    def on_log(
        self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        if logs is not None and "loss" in logs and self.loss.last_candidates:
            logs["candidates"] = self.loss.last_candidates
