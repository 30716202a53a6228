"""LoRA adapter directories: finding their files, reading their settings, switching them on a model.

An adapter directory is either a PEFT adapter directory (``adapter_config.json`` +
``adapter_model.safetensors``) or a sentence-transformers model directory saved with an adapter
(the same two files in its transformer module's folder).

Example:
    >>> import tempfile, pathlib
    >>> find_adapter_files(tempfile.mkdtemp())
    Traceback (most recent call last):
    ...
    loracode_embed.manifest.ManifestError: ... is not an adapter directory: no adapter_config.json ...
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import warnings
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from loracode_embed.batched_lora import batchable, batched_rows
from loracode_embed.languages import canonical_language
from loracode_embed.loading import find_adapter_files  # re-exported: it lives where no torch is imported
from loracode_embed.manifest import ADAPTER_CONFIG, TASKS, AdapterEntry, ManifestError

#: Compute mixed-adapter batches with batched products (False: PEFT's per-adapter loop; for comparisons).
BATCHED_LORA = True


def read_lora_settings(folder: Path) -> dict[str, Any]:
    """The LoRA settings worth recording in a manifest, read from ``adapter_config.json``."""
    config = json.loads((folder / ADAPTER_CONFIG).read_text(encoding="utf-8"))
    if config.get("peft_type", "LORA") != "LORA":
        raise ManifestError(f"{folder}: peft_type {config.get('peft_type')!r} is not LoRA")
    targets = config.get("target_modules")
    return {
        "r": config.get("r"),
        "alpha": config.get("lora_alpha"),
        "dropout": config.get("lora_dropout"),
        "target_modules": sorted(targets) if isinstance(targets, list) else targets,
    }


_NAME = re.compile(r"^(?P<task>text2code|code2code)(?:-(?P<lang>[A-Za-z0-9#+_.-]+))?$")


def entry_from_spec(name: str, spec: Any) -> tuple[Path, AdapterEntry]:
    """Turn a ``from_base(adapters={name: spec})`` value into (source folder, manifest entry).

    ``spec`` is a directory (task and language read from the name, e.g. ``text2code-python``) or a
    dict with ``path`` and optional ``task``, ``languages``, ``kind``, ``provenance``, ``metrics``.

    Example:
        >>> import tempfile
        >>> entry_from_spec("text2code-python", {"path": tempfile.mkdtemp()})
        Traceback (most recent call last):
        ...
        loracode_embed.manifest.ManifestError: ... is not an adapter directory: no adapter_config.json ...
    """
    if isinstance(spec, (str, os.PathLike)):
        spec = {"path": spec}
    if not isinstance(spec, dict) or "path" not in spec:
        raise TypeError(f"adapters[{name!r}] must be a directory path or a dict with 'path', got {spec!r}")
    folder = find_adapter_files(spec["path"])
    match = _NAME.match(name)
    task = spec.get("task") or (match.group("task") if match else None)
    if task not in TASKS:
        raise ValueError(
            f"adapters[{name!r}]: cannot tell its task from the name; pass {{'path': ..., 'task': "
            f"'text2code' or 'code2code', 'languages': [...]}}"
        )
    if "languages" in spec:
        languages = [canonical_language(lang) for lang in spec["languages"]]
    elif match and match.group("lang"):
        languages = [canonical_language(match.group("lang"))]
    else:
        languages = []
    kind = spec.get("kind") or (
        "language" if len(languages) == 1 and match and match.group("lang") else "task"
    )
    entry = AdapterEntry(
        task=task,
        kind=kind,
        path=f"adapters/{name}",
        languages=languages,
        lora=read_lora_settings(folder),
        provenance=dict(spec.get("provenance") or {}),
        metrics=dict(spec.get("metrics") or {}),
    )
    return folder, entry


def activate(transformers_model: Any, adapter: str | None) -> None:
    """Make ``adapter`` the only active adapter on a PEFT-enabled transformers model (``None``: base).

    Callers hold the model's lock: adapter state is global to the model object.
    """
    if not getattr(transformers_model, "_hf_peft_config_loaded", False):
        if adapter is not None:
            raise ValueError(f"adapter {adapter!r} is not loaded on this model")
        return
    if adapter is None:
        transformers_model.disable_adapters()
    else:
        transformers_model.enable_adapters()
        transformers_model.set_adapter(adapter)


def load_adapter_into(transformers_model: Any, name: str, folder: Path) -> None:
    """Load the adapter in ``folder`` onto a transformers model under ``name`` (safetensors only).

    Raises:
        ManifestError: the adapter does not fit the model (shapes, target modules); names the adapter.
    """
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    try:
        # transformers reports the other adapters' keys as "missing" from this checkpoint, and peft
        # warns that several adapters share the model: both are expected here and only noise.
        hf_logging.set_verbosity_error()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Already found a `peft_config` attribute")
            transformers_model.load_adapter(str(folder), adapter_name=name, use_safetensors=True)
    except Exception as exc:  # shape mismatch, missing target modules: say which adapter
        raise ManifestError(f"adapter {name!r} from {folder} does not fit the base model: {exc}") from exc
    finally:
        hf_logging.set_verbosity(verbosity)


#: Per model: (the loaded adapters' names, its LoRA layers, whether batched_lora can compute them).
_LAYERS_CACHE: weakref.WeakKeyDictionary[Any, tuple[tuple[str, ...], list[Any], bool]] = (
    weakref.WeakKeyDictionary()
)


def _lora_layers(transformers_model: Any) -> tuple[list[Any], bool]:
    """The model's LoRA layers and whether :func:`batchable` holds, computed again only when the set of
    loaded adapters changes (walking the modules on every query is pure overhead)."""
    modules = getattr(transformers_model, "modules", None)
    if modules is None:
        return [], False
    adapters = tuple(sorted(getattr(transformers_model, "peft_config", None) or ()))
    try:
        cached = _LAYERS_CACHE.get(transformers_model)
    except TypeError:  # not weak-referenceable: no cache
        cached = None
    if cached is not None and cached[0] == adapters:
        return cached[1], cached[2]
    from peft.tuners.lora import LoraLayer

    layers = [m for m in modules() if isinstance(m, LoraLayer)]
    can_batch = batchable(layers)
    with contextlib.suppress(TypeError):
        _LAYERS_CACHE[transformers_model] = (adapters, layers, can_batch)
    return layers, can_batch


@contextlib.contextmanager
def mixed_adapter_rows(transformers_model: Any, adapter_names: Sequence[str | None]) -> Iterator[None]:
    """Within the block, row ``i`` of the next forward pass goes through adapter ``adapter_names[i]``.

    Plain linear LoRA layers use :mod:`loracode_embed.batched_lora` (two batched products per layer).
    Other LoRA variants use PEFT's own mixed batch (``_mixed_batch_forward``: the base layer once for
    all rows, then each adapter's low-rank branch on its own rows), which forward pre-hooks request by
    handing an ``adapter_names`` keyword to every LoRA layer. ``None`` is the base model. Callers hold
    the model's lock.

    Example:
        >>> with mixed_adapter_rows(object(), ["text2code-python", None]):
        ...     pass
    """
    names = ["__base__" if name is None else name for name in adapter_names]
    layers, can_batch = _lora_layers(transformers_model)
    if BATCHED_LORA and can_batch and any(name is not None for name in adapter_names):
        with batched_rows(layers, adapter_names):
            yield
        return
    if layers:
        transformers_model.enable_adapters()

    def inject(module: Any, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        return args, {**kwargs, "adapter_names": names}

    handles = [layer.register_forward_pre_hook(inject, with_kwargs=True) for layer in layers]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
