"""loracode-embed: LoRA adapters for code-search embeddings, routed per task and language.

Importing the package loads no model and makes no network call: the heavy modules (torch,
transformers, sentence-transformers) are imported on first use of :class:`LoRACodeModel`.

Example:
    >>> import loracode_embed
    >>> loracode_embed.canonical_language("golang")
    'go'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from loracode_embed.languages import SUPPORTED_LANGUAGES, canonical_language, language_for_path
from loracode_embed.loading import default_bundle_dir
from loracode_embed.manifest import ManifestError

if TYPE_CHECKING:
    from loracode_embed.model import LoRACodeModel

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
    # Lazy: `import loracode_embed` must stay cheap and must not import torch.
    if name == "LoRACodeModel":
        from loracode_embed.model import LoRACodeModel

        return LoRACodeModel
    raise AttributeError(f"module 'loracode_embed' has no attribute {name!r}")
