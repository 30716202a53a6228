"""The contrastive loss: MultipleNegativesRankingLoss with in-batch negatives, guarded against NaN/inf.

* ``mini_batch_size == 0``: :class:`GuardedMNRL` (plain MNRL);
* ``mini_batch_size > 0``: :class:`GuardedCachedMNRL` (GradCache: the same loss for batches larger
  than memory allows, about 2x slower per pair).

Rows may carry hard negatives (columns ``negative_1..n`` after ``anchor`` and ``positive``): every
anchor is scored against every positive and every hard negative of the batch. Both losses gather the
other devices' embeddings, hard negatives included (with gradients), when ``gather_across_devices``
is on and a process group is running, so each anchor is scored against ``batch_size * world_size *
(1 + n)`` candidates. They record that count in ``last_candidates``: the proof, in logs and
``training.json``, that negatives really were gathered. A non-finite loss raises :class:`NonFiniteLossError` with the step.

Example:
    >>> import math
    >>> check_finite(math.nan, step=7)
    Traceback (most recent call last):
    ...
    loracode_embed.training.loss.NonFiniteLossError: Training loss is nan at step 7; stopping ...
"""

from __future__ import annotations

import functools
import math
from typing import Any

import torch

from loracode_embed.training._deps import require, require_st


class NonFiniteLossError(RuntimeError):
    """The training loss became NaN or infinite; training stops instead of averaging it away."""


def check_finite(value: float | torch.Tensor, step: int) -> None:
    """Raise :class:`NonFiniteLossError` if ``value`` is NaN or infinite."""
    number = float(value.detach().float().item()) if isinstance(value, torch.Tensor) else float(value)
    if not math.isfinite(number):
        raise NonFiniteLossError(
            f"Training loss is {number} at step {step}; stopping (the last checkpoint is intact). "
            "Usual causes: a learning rate too high, fp16 overflow (use precision: bf16 or fp32), "
            "or empty/corrupt texts in the data. Lower learning_rate or check the data, then "
            "resume from the last checkpoint with --resume."
        )


class _GuardMixin:
    """Shared by both losses: step bookkeeping, the finite check, the candidate count."""

    step: int = 0
    last_candidates: int = 0

    def _install_recorder(self) -> None:
        util = require("sentence_transformers.util")
        owner = self

        @functools.wraps(util.cos_sim)
        def cos_sim(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            # b holds every candidate (gathered from all devices when gathering is on)
            owner.last_candidates = int(b.shape[0])
            return util.cos_sim(a, b)

        self.similarity_fct = cos_sim

    def forward(self, sentence_features: Any, labels: Any) -> torch.Tensor:
        loss = super().forward(sentence_features, labels)  # type: ignore[misc]
        check_finite(loss, self.step)
        return loss


def build_loss(
    model: Any, scale: float, mini_batch_size: int, gather_across_devices: bool
) -> torch.nn.Module:
    """The guarded (cached) MNRL for ``model``; see the module docstring."""
    losses = require_st("losses")

    class GuardedMNRL(_GuardMixin, losses.MultipleNegativesRankingLoss):
        """MultipleNegativesRankingLoss that stops on a non-finite loss and records its candidate count."""

    class GuardedCachedMNRL(_GuardMixin, losses.CachedMultipleNegativesRankingLoss):
        """CachedMultipleNegativesRankingLoss that stops on a non-finite loss and records its candidate count."""

    if mini_batch_size:
        loss: Any = GuardedCachedMNRL(
            model, scale=scale, mini_batch_size=mini_batch_size, gather_across_devices=gather_across_devices
        )
    else:
        loss = GuardedMNRL(model, scale=scale, gather_across_devices=gather_across_devices)
    loss._install_recorder()
    return loss
