"""Dev-split retrieval evaluation: each dev anchor must find its own positive among all dev positives.

Example:
    >>> queries, corpus, relevant = retrieval_sets([
    ...     {"anchor": "add", "positive": "def add(): ..."},
    ...     {"anchor": "add", "positive": "def plus(): ..."},
    ...     {"anchor": "sub", "positive": "def add(): ..."},
    ... ])
    >>> (len(queries), len(corpus), sorted(relevant["q0"]))
    (2, 2, ['c0', 'c1'])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from loracode_embed.training._deps import require_st

EVALUATOR_NAME = "dev"


def retrieval_sets(
    pairs: Sequence[dict[str, str]],
) -> tuple[dict[str, str], dict[str, str], dict[str, set[str]]]:
    """Queries, corpus and relevance judgements from pairs; equal texts share one id."""
    query_ids: dict[str, str] = {}
    corpus_ids: dict[str, str] = {}
    relevant: dict[str, set[str]] = {}
    for pair in pairs:
        qid = query_ids.setdefault(pair["anchor"], f"q{len(query_ids)}")
        cid = corpus_ids.setdefault(pair["positive"], f"c{len(corpus_ids)}")
        relevant.setdefault(qid, set()).add(cid)
    queries = {qid: text for text, qid in query_ids.items()}
    corpus = {cid: text for text, cid in corpus_ids.items()}
    return queries, corpus, relevant


def build_evaluator(pairs: Sequence[dict[str, str]], batch_size: int = 64) -> Any:
    """An ``InformationRetrievalEvaluator`` named ``dev`` (metrics ``dev_cosine_mrr@10``, ...)."""
    evaluation = require_st("evaluation")
    queries, corpus, relevant = retrieval_sets(pairs)
    return evaluation.InformationRetrievalEvaluator(
        queries=queries,
        corpus=corpus,
        relevant_docs=relevant,
        name=EVALUATOR_NAME,
        batch_size=batch_size,
        show_progress_bar=False,
        mrr_at_k=[10],
        ndcg_at_k=[10],
        accuracy_at_k=[1, 5, 10],
        precision_recall_at_k=[1, 10],
        map_at_k=[100],
    )
