"""LangChain ``Embeddings`` backed by a :class:`loracode_embed.LoRACodeModel`."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from typing import Any, Literal

from langchain_core.embeddings import Embeddings
from loracode_embed.inputs import check_texts
from loracode_embed.language_guess import guess_language
from loracode_embed.languages import canonical_language
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

logger = logging.getLogger(__name__)

Task = Literal["auto", "text2code", "code2code"]


class LoRACodeEmbeddings(BaseModel, Embeddings):
    """Code-search embeddings from loracode-embed: one encoder, LoRA adapters routed per language and task.

    Documents are embedded as code with the adapter for ``language``; queries are routed by their type
    (a natural-language question or a code snippet) and ``language``. With ``language=None`` each
    document's language is guessed from its content (:func:`loracode_embed.language_guess.guess_language`)
    and queries use the unified (all-language) adapter. Text reaches the model unchanged: newlines and
    indentation are kept. Vectors are plain ``list[float]``, L2-normalised.

    Args:
        language: Language of the code (``"python"``, ``"go"``, ... any alias that
            :func:`loracode_embed.languages.canonical_language` knows), or ``None`` to guess per document.
        model: ``None`` for the default bundle, a bundle directory (``str`` / ``os.PathLike``), or an
            already loaded :class:`loracode_embed.LoRACodeModel` (shared, not copied). A path or the default
            bundle is loaded on first use, never executing code from the model files.
        task: ``"auto"`` (queries: natural language -> ``text2code``, code -> ``code2code``; documents:
            ``text2code``), or ``"text2code"`` / ``"code2code"`` to fix the task for queries and documents.
        batch_size: Texts per forward pass.
        show_progress: Show a progress bar while embedding.

    Example:
        >>> from langchain_loracode import LoRACodeEmbeddings
        >>> embeddings = LoRACodeEmbeddings(language="python")
        >>> doc = embeddings.embed_documents(["def add(a, b):\\n    return a + b\\n"])[0]
        >>> query = embeddings.embed_query("add two numbers")
        >>> len(doc) == len(query) == 384
        True
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, validate_assignment=True)

    language: str | None = None
    model: Any = None
    task: Task = "auto"
    batch_size: int = Field(default=32, gt=0)
    show_progress: bool = False

    _loaded: Any = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @field_validator("language")
    @classmethod
    def _canonical_language(cls, value: str | None) -> str | None:
        return None if value is None else canonical_language(value)

    @model_validator(mode="after")
    def _check_model(self) -> LoRACodeEmbeddings:
        model = self.model
        if model is None or isinstance(model, (str, os.PathLike)):
            if isinstance(model, str) and not model.strip():
                raise ValueError("model must be a bundle path or a LoRACodeModel, got an empty string")
            self._loaded = None
        elif callable(getattr(model, "encode_code", None)) and callable(getattr(model, "encode_query", None)):
            self._loaded = model
        else:
            raise TypeError(
                "model must be None, a bundle path (str or os.PathLike) or a LoRACodeModel, "
                f"got {type(model).__name__}: {model!r:.80}"
            )
        return self

    @property
    def client(self) -> Any:
        """The :class:`loracode_embed.LoRACodeModel` in use, loaded on first access."""
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    from loracode_embed import LoRACodeModel

                    path = None if self.model is None else os.fspath(self.model)
                    logger.info("Loading loracode-embed model from %s", path or "the default bundle")
                    self._loaded = LoRACodeModel.from_pretrained(path)
        return self._loaded

    @property
    def _document_task(self) -> str:
        return "text2code" if self.task == "auto" else self.task

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed code documents with the adapter for ``language`` (or each document's guessed language).

        Raises:
            TypeError: ``texts`` is not a list of strings (the message names the bad item's index).

        Example:
            >>> LoRACodeEmbeddings(language="go").embed_documents([])
            []
        """
        items = check_texts(texts, "texts")
        if not items:
            return []
        languages: str | list[str | None] | None = self.language
        if languages is None:
            languages = [guess_language(text) for text in items]
        vectors = self.client.encode_code(
            items,
            languages=languages,
            task=self._document_task,
            batch_size=self.batch_size,
            show_progress=self.show_progress,
        )
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        """Embed one search query, routed by its type (natural language or code) and ``language``.

        Raises:
            TypeError: ``text`` is not a string.
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a string, got {type(text).__name__}: {text!r:.80}")
        vectors = self.client.encode_query(
            [text],
            language=self.language,
            task=self.task,
            batch_size=self.batch_size,
            show_progress=False,
        )
        return vectors[0].tolist()

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Async :meth:`embed_documents`; the model runs in a worker thread, off the event loop."""
        return await asyncio.to_thread(self.embed_documents, texts)

    async def aembed_query(self, text: str) -> list[float]:
        """Async :meth:`embed_query`; the model runs in a worker thread, off the event loop."""
        return await asyncio.to_thread(self.embed_query, text)
