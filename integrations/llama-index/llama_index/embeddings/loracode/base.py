"""LlamaIndex ``BaseEmbedding`` backed by a :class:`loracode_embed.LoRACodeModel`."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from typing import Any, Literal

from llama_index.core.base.embeddings.base import BaseEmbedding, Embedding
from llama_index.core.bridge.pydantic import Field, PrivateAttr, field_validator
from loracode_embed.inputs import check_texts
from loracode_embed.language_guess import guess_language
from loracode_embed.languages import canonical_language

logger = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "loracode-embed/default"


class LoRACodeEmbedding(BaseEmbedding):
    """Code-search embeddings from loracode-embed: one encoder, LoRA adapters routed per language and task.

    Texts (nodes) are embedded as code with the adapter for ``language``; queries are routed by their type
    (a natural-language question or a code snippet) and ``language``. With ``language=None`` each text's
    language is guessed from its content (:func:`loracode_embed.language_guess.guess_language`) and
    queries use the unified (all-language) adapter. Text reaches the model unchanged. Inference is local:
    there is no retry around it, errors surface at once.

    Args:
        language: Language of the code, or ``None`` to guess per text.
        model: ``None`` for the default bundle, a bundle directory, or a loaded
            :class:`loracode_embed.LoRACodeModel` (shared, not copied). Paths load on first use.
        task: ``"auto"`` (queries: natural language -> ``text2code``, code -> ``code2code``; texts:
            ``text2code``), or ``"text2code"`` / ``"code2code"`` for both.
        embed_batch_size: Texts per batch, default 32 (LlamaIndex batches by it; one model call per batch).
        **kwargs: Other :class:`BaseEmbedding` fields (``callback_manager``, ``num_workers``, ...).

    Example:
        >>> from llama_index.embeddings.loracode import LoRACodeEmbedding
        >>> embed_model = LoRACodeEmbedding(language="python")
        >>> len(embed_model.get_text_embedding("def add(a, b):\\n    return a + b\\n"))
        384
        >>> len(embed_model.get_query_embedding("add two numbers"))
        384
    """

    language: str | None = Field(default=None, description="Language of the code; None guesses per text.")
    task: Literal["auto", "text2code", "code2code"] = Field(default="auto", description="Retrieval task.")

    _model: Any = PrivateAttr(default=None)
    _model_path: str | None = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def __init__(
        self,
        language: str | None = None,
        model: Any = None,
        task: str = "auto",
        embed_batch_size: int = 32,
        model_name: str | None = None,
        **kwargs: Any,
    ) -> None:
        loaded = None
        path = None
        if model is None:
            default_name = DEFAULT_MODEL_NAME
        elif isinstance(model, (str, os.PathLike)):
            path = os.fspath(model)
            if not path.strip():
                raise ValueError("model must be a bundle path or a LoRACodeModel, got an empty string")
            default_name = path
        elif callable(getattr(model, "encode_code", None)) and callable(getattr(model, "encode_query", None)):
            loaded = model
            default_name = f"loracode-embed:{getattr(model, 'fingerprint', '')[:12]}"
        else:
            raise TypeError(
                "model must be None, a bundle path (str or os.PathLike) or a LoRACodeModel, "
                f"got {type(model).__name__}: {model!r:.80}"
            )
        super().__init__(
            language=language,
            task=task,
            embed_batch_size=embed_batch_size,
            model_name=model_name or default_name,
            **kwargs,
        )
        self._model = loaded
        self._model_path = path

    @field_validator("language")
    @classmethod
    def _canonical_language(cls, value: str | None) -> str | None:
        return None if value is None else canonical_language(value)

    @classmethod
    def class_name(cls) -> str:
        return "LoRACodeEmbedding"

    @property
    def client(self) -> Any:
        """The :class:`loracode_embed.LoRACodeModel` in use, loaded on first access."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from loracode_embed import LoRACodeModel

                    logger.info(
                        "Loading loracode-embed model from %s", self._model_path or "the default bundle"
                    )
                    self._model = LoRACodeModel.from_pretrained(self._model_path)
        return self._model

    # ------------------------------------------------------------------ sync

    def _get_query_embedding(self, query: str) -> Embedding:
        if not isinstance(query, str):
            raise TypeError(f"query must be a string, got {type(query).__name__}: {query!r:.80}")
        vectors = self.client.encode_query(
            [query], language=self.language, task=self.task, batch_size=self.embed_batch_size
        )
        return vectors[0].tolist()

    def _get_text_embedding(self, text: str) -> Embedding:
        if not isinstance(text, str):
            raise TypeError(f"text must be a string, got {type(text).__name__}: {text!r:.80}")
        return self._get_text_embeddings([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        items = check_texts(texts, "texts")
        if not items:
            return []
        languages: str | list[str | None] | None = self.language
        if languages is None:
            languages = [guess_language(text) for text in items]
        vectors = self.client.encode_code(
            items,
            languages=languages,
            task="text2code" if self.task == "auto" else self.task,
            batch_size=self.embed_batch_size,
        )
        return vectors.tolist()

    def get_text_embedding_batch(
        self, texts: list[str], show_progress: bool = False, **kwargs: Any
    ) -> list[Embedding]:
        """Embed ``texts`` in batches of ``embed_batch_size``; a bad item is named by its index."""
        return super().get_text_embedding_batch(
            check_texts(texts, "texts"), show_progress=show_progress, **kwargs
        )

    # ------------------------------------------------------------------ async: model in a worker thread

    async def _aget_query_embedding(self, query: str) -> Embedding:
        return await asyncio.to_thread(self._get_query_embedding, query)

    async def _aget_text_embedding(self, text: str) -> Embedding:
        return await asyncio.to_thread(self._get_text_embedding, text)

    async def _aget_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return await asyncio.to_thread(self._get_text_embeddings, texts)

    async def aget_text_embedding_batch(
        self, texts: list[str], show_progress: bool = False, **kwargs: Any
    ) -> list[Embedding]:
        """Async :meth:`get_text_embedding_batch`."""
        return await super().aget_text_embedding_batch(
            check_texts(texts, "texts"), show_progress=show_progress, **kwargs
        )
