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
from loracode_embed.manifest import ADAPTER_CONFIG, ADAPTER_WEIGHTS, TASKS, AdapterEntry, ManifestError

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


def loaded_adapters(transformers_model: Any) -> tuple[str, ...]:
    """The names of the adapters loaded on ``transformers_model`` (PEFT's ``peft_config`` keys), sorted.

    Example:
        >>> loaded_adapters(object())
        ()
    """
    return tuple(sorted(getattr(transformers_model, "peft_config", None) or ()))


def activate(transformers_model: Any, adapter: str | None) -> None:
    """Make ``adapter`` the only active adapter on a model with PEFT adapters (``None``: the base).

    This goes through PEFT's own layer API, not transformers' PEFT integration (``set_adapter`` /
    ``enable_adapters`` on the model), whose version gate can demand a peft that is not published yet
    (transformers 5.24+ asks for peft >= 0.22). Adapters stay frozen (inference mode).
    Callers hold the model's lock: adapter state is global to the model object.

    Example:
        >>> activate(object(), None)  # no adapters loaded: the base is already active
    """
    if not loaded_adapters(transformers_model):
        if adapter is not None:
            raise ValueError(f"adapter {adapter!r} is not loaded on this model")
        return
    if adapter is not None and adapter not in transformers_model.peft_config:
        raise ValueError(f"adapter {adapter!r} is not loaded on this model")
    layers, _ = _lora_layers(transformers_model)
    for layer in _tuner_layers(transformers_model, layers):
        if adapter is None:
            layer.enable_adapters(False)
        else:
            layer.enable_adapters(True)
            # enable_adapters(True) marks the active adapter trainable; inference_mode freezes it again
            layer.set_adapter(adapter, inference_mode=True)


def _tuner_layers(transformers_model: Any, lora_layers: list[Any]) -> list[Any]:
    """Every PEFT tuner layer of the model (LoRA layers are the usual and cached case)."""
    from peft.tuners.tuners_utils import BaseTunerLayer

    if lora_layers:
        return lora_layers
    return [m for m in transformers_model.modules() if isinstance(m, BaseTunerLayer)]


def load_adapter_into(transformers_model: Any, name: str, folder: Path) -> None:
    """Load the adapter in ``folder`` onto a transformers model under ``name`` (safetensors only).

    Uses PEFT's own functions (``inject_adapter_in_model`` + ``set_peft_model_state_dict``), so loading
    does not depend on transformers' PEFT integration or its peft version gate. The new adapter is
    loaded frozen; which adapter is active is :func:`activate`'s job.

    Raises:
        ManifestError: the adapter does not fit the model (shapes, target modules, keys); names the adapter.
    """
    from safetensors.torch import load_file

    from loracode_embed.compat import import_peft

    peft = import_peft()
    from peft.functional import inject_adapter_in_model, set_peft_model_state_dict

    if name in loaded_adapters(transformers_model):
        raise ManifestError(f"adapter {name!r} is already loaded on this model")
    try:
        config = peft.LoraConfig.from_pretrained(str(folder))
        config.inference_mode = True
        # saved from a PeftModel: keys start with its wrapper's prefix, which this bare model lacks
        # (peft >= 0.19 strips it itself; 0.18 does not)
        weights = {
            key.removeprefix("base_model.model."): value
            for key, value in load_file(str(folder / ADAPTER_WEIGHTS)).items()
        }
        with warnings.catch_warnings():
            # peft warns that several adapters share the model: that is the point here
            warnings.filterwarnings("ignore", message="Already found a `peft_config` attribute")
            was_training = transformers_model.training
            inject_adapter_in_model(config, transformers_model, adapter_name=name)
            # the new LoRA modules (their dropout above all) start in training mode: follow the model
            transformers_model.train(was_training)
            result = set_peft_model_state_dict(transformers_model, weights, adapter_name=name)
    except Exception as exc:  # shape mismatch, missing target modules: say which adapter
        raise ManifestError(f"adapter {name!r} from {folder} does not fit the base model: {exc}") from exc
    unexpected = list(getattr(result, "unexpected_keys", None) or ())
    missing = [key for key in getattr(result, "missing_keys", None) or () if f".{name}." in key]
    if unexpected or missing:
        raise ManifestError(
            f"adapter {name!r} from {folder} does not fit the base model: "
            f"{len(unexpected)} unexpected weights (e.g. {unexpected[:2]}), "
            f"{len(missing)} missing (e.g. {missing[:2]})"
        )


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
    adapters = loaded_adapters(transformers_model)
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
    for layer in layers:  # PEFT's mixed batch only runs on enabled layers
        layer.enable_adapters(True)

    def inject(module: Any, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        return args, {**kwargs, "adapter_names": names}

    handles = [layer.register_forward_pre_hook(inject, with_kwargs=True) for layer in layers]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
