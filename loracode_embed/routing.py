"""(task, language) -> adapter name. Pure functions over the manifest; no torch.

The fallback chain is: the language's own adapter for the task -> the task adapter (trained on all
languages) -> the base model (``None``). :func:`route` says which step it took, so callers can log it.

Example:
    >>> from loracode_embed.manifest import AdapterEntry
    >>> adapters = {
    ...     "text2code": AdapterEntry(task="text2code", kind="task", path="adapters/t2c"),
    ...     "text2code-python": AdapterEntry(task="text2code", kind="language", path="a/py", languages=["python"]),
    ... }
    >>> route(adapters, "text2code", "py").adapter
    'text2code-python'
    >>> route(adapters, "text2code", "ruby").fallback
    'task'
    >>> route(adapters, "code2code", "ruby").adapter is None
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from loracode_embed.languages import canonical_language
from loracode_embed.manifest import TASKS, AdapterEntry

#: Values accepted for ``task`` when encoding queries; ``auto`` decides per query.
QUERY_TASKS: tuple[str, ...] = ("auto", *TASKS)


@dataclass(frozen=True)
class Route:
    """The outcome of routing one (task, language) pair.

    Attributes:
        task: The task routed.
        language: The canonical language, or ``None`` if none was given.
        adapter: The adapter name, or ``None`` for the base model.
        fallback: ``"language"`` (its own adapter), ``"task"`` (the task adapter) or ``"base"``.
    """

    task: str
    language: str | None
    adapter: str | None
    fallback: str

    def describe(self) -> str:
        lang = self.language or "any language"
        if self.fallback == "language":
            return f"task={self.task} language={lang}: language adapter {self.adapter!r}"
        if self.fallback == "task":
            return f"task={self.task} language={lang}: task adapter {self.adapter!r} (no language adapter)"
        return f"task={self.task} language={lang}: base model (no adapter for this task)"


def check_task(task: object, allowed: tuple[str, ...] = TASKS, argument: str = "task") -> str:
    """Validate a task string.

    Example:
        >>> check_task("text2code")
        'text2code'
    """
    if not isinstance(task, str):
        raise TypeError(f"{argument} must be a string, got {type(task).__name__}: {task!r}")
    if task not in allowed:
        raise ValueError(f"Unknown {argument} {task!r}. Expected one of: {', '.join(allowed)}")
    return task


def route(adapters: Mapping[str, AdapterEntry], task: str, language: str | None = None) -> Route:
    """Pick the adapter for ``task`` and ``language`` from a manifest's adapters.

    Raises:
        ValueError: unknown task or unknown language (the message lists the supported ones).
    """
    check_task(task)
    lang = canonical_language(language) if language is not None else None
    if lang is not None:
        for name, entry in adapters.items():
            if entry.task == task and entry.kind == "language" and lang in entry.languages:
                return Route(task, lang, name, "language")
    for name, entry in adapters.items():
        if entry.task == task and entry.kind == "task":
            return Route(task, lang, name, "task")
    return Route(task, lang, None, "base")


def routing_table(adapters: Mapping[str, AdapterEntry], languages: tuple[str, ...]) -> list[Route]:
    """Every (task, language) route for the given languages, plus the language-less route per task."""
    table = []
    for task in TASKS:
        table.append(route(adapters, task, None))
        table.extend(route(adapters, task, lang) for lang in languages)
    return table


def named_adapter(adapter: object, adapters: Mapping[str, AdapterEntry]) -> str | None:
    """Check an explicit ``adapter=`` argument: ``"base"`` is ``None``, any other name must be loaded.

    Example:
        >>> named_adapter("base", {}) is None
        True
        >>> named_adapter("nope", {})
        Traceback (most recent call last):
        ...
        ValueError: Unknown adapter 'nope'. Available: (none)
    """
    if not isinstance(adapter, str):
        raise TypeError(f"adapter must be a string ('auto', 'base' or an adapter name), got {adapter!r}")
    if adapter == "base":
        return None
    if adapter not in adapters:
        raise ValueError(f"Unknown adapter {adapter!r}. Available: {', '.join(sorted(adapters)) or '(none)'}")
    return adapter
