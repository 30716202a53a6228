"""LangChain integration for loracode-embed.

Example:
    >>> from langchain_loracode import LoRACodeEmbeddings
    >>> embeddings = LoRACodeEmbeddings(language="python")
"""

from __future__ import annotations

from langchain_loracode.embeddings import LoRACodeEmbeddings

__all__ = ["LoRACodeEmbeddings"]
__version__ = "0.1.0"
