"""loracode-embed: LoRA adapters for code-search embeddings, routed per task and language.

Importing the package loads no model and makes no network call.
"""

from __future__ import annotations

__version__ = "0.1.0"
