"""loracode-embed: LoRA adapters for code-search embeddings, routed per task and language.

Importing the package loads no model and makes no network call: the heavy modules (torch,
transformers, sentence-transformers) are imported on first use of :class:`LoRACodeModel`.

Example:
    >>> import loracode_embed
    >>> loracode_embed.canonical_language("golang")
    'go'
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time: `loracode search` starts faster
if TYPE_CHECKING:
    from typing import Any

    from loracode_embed.languages import SUPPORTED_LANGUAGES, canonical_language, language_for_path
    from loracode_embed.loading import default_bundle_dir
    from loracode_embed.manifest import ManifestError
    from loracode_embed.model import LoRACodeModel

#: Where each public name lives; imported on first use, so that `import loracode_embed` (and every
#: `loracode` command, which imports it for ``__version__``) stays cheap and never imports torch.
_HOMES = {
    "LoRACodeModel": "model",
    "ManifestError": "manifest",
    "SUPPORTED_LANGUAGES": "languages",
    "canonical_language": "languages",
    "default_bundle_dir": "loading",
    "language_for_path": "languages",
}

__version__ = "0.1.0"

__all__ = [
    "LoRACodeModel",
    "ManifestError",
    "SUPPORTED_LANGUAGES",
    "__version__",
    "canonical_language",
    "default_bundle_dir",
    "language_for_path",
]


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        import importlib

        value = getattr(importlib.import_module(f"loracode_embed.{_HOMES[name]}"), name)
        if name != "LoRACodeModel":  # cached; LoRACodeModel is looked up each time, as before
            globals()[name] = value
        return value
    raise AttributeError(f"module 'loracode_embed' has no attribute {name!r}")
