"""LlamaIndex integration for loracode-embed.

Example:
    >>> from llama_index.embeddings.loracode import LoRACodeEmbedding
    >>> embed_model = LoRACodeEmbedding(language="python")
"""

from __future__ import annotations

from llama_index.embeddings.loracode.base import LoRACodeEmbedding

__all__ = ["LoRACodeEmbedding"]
__version__ = "0.1.0"
