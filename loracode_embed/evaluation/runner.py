"""Run a retrieval evaluation: encode queries and candidates with a model, rank, score.

The model is anything with the core model's encoding interface (``LoRACodeModel``):
``encode_query(texts, language=, task=, adapter=, batch_size=)``,
``encode_code(texts, languages=, task=, adapter=, batch_size=)``, ``route(task, language)`` and
``embedding_dim``. Vectors are L2-normalised here again, so the dot product is the cosine similarity.

Example:
    >>> from loracode_embed import LoRACodeModel                               # doctest: +SKIP
    >>> from loracode_embed.evaluation.shared_sets import load_java_cs
    >>> from loracode_embed.evaluation.runner import evaluate
    >>> model = LoRACodeModel.from_pretrained()                                # doctest: +SKIP
    >>> result = evaluate(model, load_java_cs("test"), adapter="base")         # doctest: +SKIP
    >>> sorted(result)                                                          # doctest: +SKIP
    ['adapters', 'mrr', 'n_candidates', 'n_queries', 'ndcg@10', 'recall@1', 'recall@10', 'recall@5', 'set',
     'task']
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from loracode_embed.evaluation.cache import EmbeddingCache
from loracode_embed.evaluation.metrics import ranks_from_embeddings, retrieval_metrics
from loracode_embed.evaluation.records import TASKS, EvalSet
from loracode_embed.languages import canonical_language

logger = logging.getLogger(__name__)

METRIC_KEYS: tuple[str, ...] = ("mrr", "ndcg@10", "recall@1", "recall@5", "recall@10")
UNKNOWN_LANGUAGE = "unknown"


def _normalise(vecs: np.ndarray) -> np.ndarray:
    vecs = np.asarray(vecs, dtype=np.float32)
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    return vecs / np.maximum(norms, 1e-12)


def adapter_for(model: Any, task: str, language: str | None, adapter: str) -> str:
    """The adapter that ``adapter`` resolves to for one language: a bundle adapter name or ``"base"``."""
    if adapter == "base":
        return "base"
    if adapter == "auto":
        return model.route(task, language) or "base"
    return adapter


def _check_adapter(model: Any, adapter: str) -> None:
    if not isinstance(adapter, str):
        raise TypeError(f"adapter must be a str, got {type(adapter).__name__}")
    if adapter in ("auto", "base"):
        return
    names = list(getattr(model, "adapters", []) or [])
    if adapter not in names:
        raise ValueError(
            f"adapter {adapter!r} is not in the model bundle; choose auto, base or one of {names}"
        )


def cache_key(model: Any) -> str:
    """The embedding-cache key of a model: its fingerprint, plus its dtype unless that is float32.

    The fingerprint names the weights; the dtype the model computes in changes the vectors too
    (bfloat16 on CPU, float16 on CUDA), so a float32 run never reads a bfloat16 run's vectors.

    Example:
        >>> class Model:
        ...     fingerprint, dtype = "0123abcd", "torch.bfloat16"
        >>> cache_key(Model())
        '0123abcd/torch.bfloat16'
    """
    key = getattr(model, "fingerprint", "")
    dtype = getattr(model, "dtype", None)
    return key if dtype is None or str(dtype) == "torch.float32" or not key else f"{key}/{dtype}"


def _encode_candidates(
    model: Any,
    codes: list[str],
    langs: list[str | None],
    task: str,
    adapter: str,
    batch_size: int,
    show_progress: bool,
    cache_dir: str | os.PathLike[str] | None,
) -> np.ndarray:
    def encode(texts: list[str], languages: list[str | None]) -> np.ndarray:
        return model.encode_code(
            texts,
            languages=languages,
            task=task,
            adapter=adapter,
            batch_size=batch_size,
            show_progress=show_progress,
        )

    if cache_dir is None:
        return encode(codes, langs)
    cache = EmbeddingCache(cache_dir, cache_key(model))
    routed = {lang: adapter_for(model, task, lang, adapter) for lang in set(langs)}
    used = [routed[lang] for lang in langs]
    found, vecs = cache.get(codes, langs, used)
    missing = [i for i in range(len(codes)) if not found[i]]
    logger.info("embedding cache: %d of %d candidates cached", len(codes) - len(missing), len(codes))
    if missing:
        new = np.asarray(encode([codes[i] for i in missing], [langs[i] for i in missing]), dtype=np.float32)
        if vecs is None:
            vecs = np.zeros((len(codes), new.shape[1]), dtype=np.float32)
        vecs[missing] = new
        cache.put([codes[i] for i in missing], [langs[i] for i in missing], [used[i] for i in missing], new)
        cache.save()
    return vecs


def evaluate(
    model: Any,
    eval_set: EvalSet,
    adapter: str = "auto",
    task: str | None = None,
    language: str | None = None,
    batch_size: int = 64,
    show_progress: bool = False,
    cache_dir: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Rank every candidate for every query of ``eval_set`` and score the gold's rank.

    Args:
        model: The encoder (see the module docstring).
        eval_set: Queries, gold codes and extra corpus.
        adapter: ``"auto"`` (route as the model would), ``"base"`` (backbone alone) or an adapter name.
        task: ``"text2code"`` or ``"code2code"``; default the set's own task.
        language: Keep only pairs (and corpus items) of this code language.
        batch_size: Encoding batch size.
        show_progress: Show the encoder's progress bars.
        cache_dir: Keep candidate vectors in this directory (see :mod:`.cache`); needs
            ``model.fingerprint``. Results are the same with or without it.

    Returns:
        ``{"set", "task", "mrr", "ndcg@10", "recall@1", "recall@5", "recall@10", "n_queries",
        "n_candidates", "adapters"}``; ``adapters`` maps each query/code language to the adapter used
        (``"base"`` for the backbone alone; ``"unknown"`` stands for candidates with no language).

    Raises:
        ValueError: unknown task or adapter, or no queries left after the language filter.
    """
    if not isinstance(eval_set, EvalSet):
        raise TypeError(f"eval_set must be an EvalSet, got {type(eval_set).__name__}")
    task = task or eval_set.task
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    _check_adapter(model, adapter)
    if language is not None:
        eval_set = eval_set.filter_language(canonical_language(language))
    if not eval_set.pairs:
        raise ValueError(
            f"evaluation set {eval_set.name!r} has no queries"
            + (f" in language {language!r}" if language else "")
        )

    candidates = eval_set.candidates()
    index = {code: i for i, (code, _) in enumerate(candidates)}
    gold = np.array([index[p.code] for p in eval_set.pairs], dtype=np.int64)
    started = time.perf_counter()

    # Queries: one encode call per query language (encode_query takes a single language hint).
    dim = int(model.embedding_dim)
    query_vecs = np.zeros((len(eval_set.pairs), dim), dtype=np.float32)
    by_lang: dict[str, list[int]] = {}
    for i, pair in enumerate(eval_set.pairs):
        by_lang.setdefault(pair.query_lang, []).append(i)
    for qlang, rows in sorted(by_lang.items()):
        texts = [eval_set.pairs[i].query for i in rows]
        vecs = model.encode_query(
            texts,
            language=qlang,
            task=task,
            adapter=adapter,
            batch_size=batch_size,
            show_progress=show_progress,
        )
        query_vecs[rows] = _normalise(vecs)

    codes = [code for code, _ in candidates]
    code_langs: Sequence[str | None] = [lang for _, lang in candidates]
    cand_vecs = _normalise(
        _encode_candidates(
            model, codes, list(code_langs), task, adapter, batch_size, show_progress, cache_dir
        )
    )
    if cand_vecs.shape != (len(codes), dim) or query_vecs.shape[1] != dim:
        raise ValueError(
            f"model returned candidate vectors of shape {cand_vecs.shape}, expected {(len(codes), dim)}"
        )

    ranks = ranks_from_embeddings(query_vecs, cand_vecs, gold)
    metrics = retrieval_metrics(ranks)
    languages = sorted(set(by_lang) | {lang or UNKNOWN_LANGUAGE for lang in code_langs})
    adapters = {
        lang: adapter_for(model, task, None if lang == UNKNOWN_LANGUAGE else lang, adapter)
        for lang in languages
    }
    logger.info(
        "%s: %d queries x %d candidates in %.1fs, MRR %.4f",
        eval_set.name,
        len(ranks),
        len(codes),
        time.perf_counter() - started,
        metrics["mrr"],
    )
    return {
        "set": eval_set.name,
        "task": task,
        **metrics,
        "n_queries": int(len(ranks)),
        "n_candidates": int(len(codes)),
        "adapters": adapters,
    }


def combine(results: Sequence[dict[str, Any]], name: str) -> dict[str, Any]:
    """Pool per-set results (each query ranked within its own set) into one micro-averaged result.

    Metrics are averaged with each set weighted by its number of queries; ``n_candidates`` is the sum;
    ``per_set`` keeps each set's own result under its name.
    """
    if not results:
        raise ValueError("combine needs at least one result")
    if len(results) == 1:
        return dict(results[0])
    n = sum(r["n_queries"] for r in results)
    out: dict[str, Any] = {"set": name, "task": results[0]["task"]}
    for key in METRIC_KEYS:
        out[key] = float(sum(r[key] * r["n_queries"] for r in results) / n)
    out["n_queries"] = n
    out["n_candidates"] = sum(r["n_candidates"] for r in results)
    adapters: dict[str, str] = {}
    for r in results:
        adapters.update(r["adapters"])
    out["adapters"] = dict(sorted(adapters.items()))
    out["per_set"] = {r["set"]: {k: v for k, v in r.items() if k != "set"} for r in results}
    return out
