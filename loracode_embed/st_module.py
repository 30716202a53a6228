"""A sentence-transformers module that loads a whole loracode bundle and routes per call.

``SentenceTransformer(bundle_dir, trust_remote_code=True)`` loads it (sentence-transformers asks for
``trust_remote_code`` because this class lives outside its own package). Pick the adapter per call
with ``task=`` and ``language=``:

* ``model.encode(texts, task="text2code", language="python")``: routed like ``LoRACodeModel``;
* ``model.encode(texts, task="code2code")``: the code-to-code space;
* ``model.encode_query(texts, language="go")`` / ``model.encode_document(...)``: text2code routing;
* ``model.encode(texts, task="text2code-ruby")``: a named adapter; ``task="base"``: the backbone.

Example:
    >>> from sentence_transformers import SentenceTransformer
    >>> from loracode_embed.loading import DEFAULT_BUNDLE
    >>> st = SentenceTransformer(str(DEFAULT_BUNDLE), trust_remote_code=True, device="cpu")
    >>> st.encode(["def f(): pass"], task="text2code", language="python").shape
    (1, 384)
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

from sentence_transformers.models import Transformer
from sentence_transformers.util import load_dir_path

from loracode_embed.adapters import activate, load_adapter_into
from loracode_embed.loading import cached_sha256, resolve_base, weights_file
from loracode_embed.manifest import Manifest, ManifestError
from loracode_embed.routing import route

_TEXT2CODE_ALIASES = {None, "query", "document", "text2code"}


class LoRACodeTransformer(Transformer):
    """The base transformer with every adapter of a bundle loaded; ``task``/``language`` pick one."""

    forward_kwargs = set(getattr(Transformer, "forward_kwargs", set())) | {"task", "language"}

    @classmethod
    def load(cls, model_name_or_path: str, subfolder: str = "", **kwargs: Any) -> LoRACodeTransformer:
        bundle_dir = Path(
            load_dir_path(
                model_name_or_path=model_name_or_path,
                subfolder=subfolder,
                token=kwargs.get("token"),
                cache_folder=kwargs.get("cache_folder"),
                revision=kwargs.get("revision"),
                local_files_only=kwargs.get("local_files_only", False),
            )
        )
        manifest = Manifest.load(bundle_dir)
        base_path = resolve_base(manifest.base)
        if manifest.base.sha256 and cached_sha256(weights_file(base_path)) != manifest.base.sha256:
            raise ManifestError(f"The base model at {base_path} is not the one {bundle_dir} was built on")
        model_kwargs = {**(kwargs.get("model_kwargs") or {}), "use_safetensors": True}
        module = super().load(
            str(base_path),
            trust_remote_code=kwargs.get("trust_remote_code", False),
            model_kwargs=model_kwargs,
            processor_kwargs=kwargs.get("processor_kwargs"),
            config_kwargs=kwargs.get("config_kwargs"),
            backend=kwargs.get("backend", "torch"),
        )
        module._attach_bundle(bundle_dir, manifest)
        return module

    def _attach_bundle(self, bundle_dir: Path, manifest: Manifest) -> None:
        self.bundle_dir = bundle_dir
        self.manifest = manifest
        self._adapter_lock = threading.RLock()
        for name, entry in manifest.adapters.items():
            load_adapter_into(self.model, name, bundle_dir / entry.path)

    def adapter_for(self, task: str | None = None, language: str | None = None) -> str | None:
        """The adapter a call with these ``task`` and ``language`` values uses (``None``: the base)."""
        # Task names come first: the unified adapters are *named* text2code / code2code too.
        if task in _TEXT2CODE_ALIASES:
            return route(self.manifest.adapters, "text2code", language).adapter
        if task == "code2code":
            return route(self.manifest.adapters, "code2code", language).adapter
        if task == "base":
            return None
        if task in self.manifest.adapters:
            return task
        raise ValueError(
            f"task={task!r}: expected 'text2code', 'code2code', 'base' or an adapter name "
            f"({', '.join(sorted(self.manifest.adapters)) or 'none in this bundle'})"
        )

    def forward(
        self, features: dict[str, Any], task: str | None = None, language: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        adapter = self.adapter_for(task, language)
        with self._adapter_lock:  # adapter state is global to the model: switch and run as one step
            activate(self.model, adapter)
            return super().forward(features, **kwargs)

    def save(self, output_path: str, *args: Any, **kwargs: Any) -> None:
        """Write the manifest, adapter files and this module's config (the base is referenced)."""
        out = Path(output_path)
        for entry in self.manifest.adapters.values():
            source, target = self.bundle_dir / entry.path, out / entry.path
            if source.resolve() != target.resolve():
                shutil.copytree(source, target, dirs_exist_ok=True)
        self.save_config(str(out))
        self.manifest.save(out)
