"""Atomic checkpoints: a checkpoint directory either exists complete or does not exist at all.

transformers writes ``checkpoint-N/`` file by file; a kill in the middle leaves a directory that
``--resume`` would pick as the latest and then fail on (or silently load half of). Here every
checkpoint is written into ``<output_dir>/.staging/checkpoint-N/``, its files are flushed to disk,
and the directory is then renamed into place with ``os.replace`` (atomic on POSIX file systems). A
kill leaves at most a stale staging directory, which the next save clears.

:class:`LoRACodeTrainer` (built by :func:`trainer_class`) is ``SentenceTransformerTrainer`` with
these checkpoints and with :class:`~loracode_embed.training.sampler.NoDuplicatesLengthGroupedBatchSampler`.

Example:
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "tmp").mkdir(); _ = (root / "tmp" / "a.txt").write_text("x")
    >>> publish_dir(root / "tmp", root / "final").name
    'final'
    >>> sorted(p.name for p in root.iterdir())
    ['final']
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path
from typing import Any

from loracode_embed.training._deps import require

logger = logging.getLogger(__name__)

STAGING = ".staging"
_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


def load_adapter_weights(st_model: Any, checkpoint: Path) -> None:
    """Copy the adapter weights saved in ``checkpoint`` into ``st_model``'s PEFT-wrapped encoder.

    Raises:
        FileNotFoundError: the checkpoint holds no ``adapter_model.safetensors``.
        ValueError: its weights do not match the model's adapter (names the first mismatches).
    """
    from peft.functional import set_peft_model_state_dict
    from safetensors.torch import load_file

    st_model = getattr(st_model, "_orig_mod", st_model)
    peft_model = st_model[0].model
    found = sorted(checkpoint.glob("**/adapter_model.safetensors"))
    if not found:
        raise FileNotFoundError(f"{checkpoint}: no adapter_model.safetensors to resume from")
    adapter = peft_model.active_adapter
    result = set_peft_model_state_dict(peft_model, load_file(str(found[0])), adapter_name=adapter)
    missing = [key for key in result.missing_keys if f".{adapter}." in key]
    if result.unexpected_keys or missing:
        raise ValueError(
            f"{found[0]} does not match the adapter being trained: unexpected {result.unexpected_keys[:3]}, "
            f"missing {missing[:3]}"
        )


def _fsync_tree(path: Path) -> None:
    for root, _dirs, files in os.walk(path):
        for name in files:
            fd = os.open(os.path.join(root, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    _fsync_dir(path)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def publish_dir(staged: str | os.PathLike[str], final: str | os.PathLike[str]) -> Path:
    """Flush ``staged`` to disk and rename it to ``final`` atomically (replacing an older ``final``)."""
    staged, final = Path(staged), Path(final)
    _fsync_tree(staged)
    old = None
    if final.exists():
        old = final.with_name(final.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
    os.replace(staged, final)
    _fsync_dir(final.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return final


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write a text file through a temporary file and ``os.replace``."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def latest_checkpoint(folder: str | os.PathLike[str]) -> Path | None:
    """The complete checkpoint with the highest step in ``folder`` (``None`` if there is none).

    Example:
        >>> import tempfile
        >>> latest_checkpoint(tempfile.mkdtemp()) is None
        True
    """
    root = Path(folder)
    if not root.is_dir():
        return None
    found = [(int(m.group(1)), p) for p in root.iterdir() if p.is_dir() and (m := _CHECKPOINT.match(p.name))]
    found = [(step, p) for step, p in found if (p / "trainer_state.json").is_file()]
    return max(found)[1] if found else None


def trainer_class() -> type:
    """``LoRACodeTrainer``: SentenceTransformerTrainer with atomic checkpoints and our batch sampler."""
    st = require("sentence_transformers")
    trainer_utils = require("transformers.trainer_utils")
    from loracode_embed.training.sampler import NoDuplicatesLengthGroupedBatchSampler

    class LoRACodeTrainer(st.SentenceTransformerTrainer):
        """SentenceTransformerTrainer with atomic checkpoints and duplicate-free, length-grouped batches."""

        def __init__(
            self,
            *args: Any,
            group_by_length: bool = True,
            length_group_factor: int = 16,
            difficulty: list[float] | None = None,
            curriculum_buckets: int = 0,
            **kwargs: Any,
        ):
            self._group_by_length = group_by_length
            self._length_group_factor = length_group_factor
            self._difficulty = difficulty
            self._curriculum_buckets = curriculum_buckets
            self._staging_root: str | None = None
            super().__init__(*args, **kwargs)

        def get_batch_sampler(
            self,
            dataset: Any,
            batch_size: int,
            drop_last: bool,
            valid_label_columns: list[str] | None = None,
            generator: Any = None,
            seed: int = 0,
        ) -> Any:
            return NoDuplicatesLengthGroupedBatchSampler(
                dataset,
                batch_size=batch_size,
                drop_last=drop_last,
                valid_label_columns=valid_label_columns,
                generator=generator,
                seed=seed,
                group_by_length=self._group_by_length,
                group_factor=self._length_group_factor,
                num_replicas=max(1, self.args.world_size),
                # the curriculum orders the training set only (an eval set has other rows)
                difficulty=self._difficulty if dataset is self.train_dataset else None,
                curriculum_buckets=self._curriculum_buckets,
            )

        def _get_output_dir(self, trial: Any) -> str:
            if self._staging_root is not None:
                return self._staging_root
            return super()._get_output_dir(trial)

        def _load_from_checkpoint(self, checkpoint_path: str, model: Any = None) -> None:
            """Load a checkpoint's adapter weights into the model being trained (resume, best model).

            sentence-transformers would rebuild the model from the checkpoint, which for an adapter
            goes through transformers' PEFT integration and its peft version gate; PEFT's own
            ``set_peft_model_state_dict`` does the same job without it.
            """
            load_adapter_weights(self.model, Path(checkpoint_path))

        def _save_checkpoint(self, model: Any, trial: Any) -> None:
            run_dir = super()._get_output_dir(trial)
            name = f"{trainer_utils.PREFIX_CHECKPOINT_DIR}-{self.state.global_step}"
            staging_root = os.path.join(run_dir, STAGING)
            staged = os.path.join(staging_root, name)
            if self.args.should_save:
                shutil.rmtree(staging_root, ignore_errors=True)  # leftovers of a killed save
                os.makedirs(staging_root, exist_ok=True)
            self.accelerator.wait_for_everyone()
            self._staging_root = staging_root
            try:
                super()._save_checkpoint(model, trial)
            finally:
                self._staging_root = None
            self.accelerator.wait_for_everyone()  # every rank has written its RNG state
            best = self.state.best_model_checkpoint
            if best and os.path.dirname(os.path.abspath(best)) == os.path.abspath(staging_root):
                self.state.best_model_checkpoint = os.path.join(run_dir, os.path.basename(best))
            if self.args.should_save:
                # the copy saved inside the staged checkpoint still points at the staging path
                self.state.save_to_json(os.path.join(staged, "trainer_state.json"))
                publish_dir(staged, os.path.join(run_dir, name))
                shutil.rmtree(staging_root, ignore_errors=True)
                if hasattr(trainer_utils, "rotate_checkpoints"):  # transformers >= 5
                    trainer_utils.rotate_checkpoints(
                        output_dir=run_dir,
                        save_total_limit=self.args.save_total_limit,
                        best_model_checkpoint=self.state.best_model_checkpoint,
                        use_mtime=False,
                    )
                else:  # transformers 4
                    self._rotate_checkpoints(use_mtime=False, output_dir=run_dir)
            self.accelerator.wait_for_everyone()

    return LoRACodeTrainer
