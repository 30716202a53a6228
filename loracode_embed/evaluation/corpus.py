"""Read the mined training corpus: gzipped JSON-lines shards ``<dir>/<language>/<split>-NNNNN.jsonl.gz``.

Each line is one mined pair::

    {"id", "query", "code", "language", "package", "version", "path", "line", "func_name", "code_sha"}

``query`` is the natural-language text (docstring summary), ``code`` the function. The trainer gets a
``datasets.Dataset`` with ``anchor`` (= query) and ``positive`` (= code) columns plus the metadata
columns; ``datasets`` is imported only by :func:`to_dataset` (``pip install 'loracode-embed[train]'``).

Example:
    >>> from loracode_embed.evaluation.corpus import corpus_languages, load_pairs
    >>> corpus_languages("/work/corpus")                         # doctest: +SKIP
    ['go', 'java', 'javascript', 'php', 'python', 'ruby']
    >>> pairs = load_pairs("/work/corpus", "test", "python")     # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from loracode_embed.evaluation.records import Pair
from loracode_embed.jsonl import iter_objects, require_strings

logger = logging.getLogger(__name__)

CORPUS_ENV = "LORACODE_CORPUS"
SPLITS: tuple[str, ...] = ("train", "valid", "test")
REQUIRED_FIELDS: tuple[str, ...] = ("id", "query", "code", "language")
METADATA_FIELDS: tuple[str, ...] = (
    "id",
    "language",
    "package",
    "version",
    "path",
    "line",
    "func_name",
    "code_sha",
)
_SHARD = re.compile(r"^(train|valid|test)-\d+\.jsonl(\.gz)?$")


def resolve_corpus_dir(corpus_dir: str | os.PathLike[str] | None = None) -> Path:
    """The mined corpus directory: ``corpus_dir``, else ``$LORACODE_CORPUS``.

    Raises FileNotFoundError naming ``--corpus-dir`` and the environment variable when neither gives an
    existing directory.
    """
    value = corpus_dir if corpus_dir is not None else os.environ.get(CORPUS_ENV)
    if not value:
        raise FileNotFoundError(
            f"no mined corpus given: pass --corpus-dir DIR (or set {CORPUS_ENV}) pointing at the directory "
            "that holds <language>/{train,valid,test}-NNNNN.jsonl.gz"
        )
    path = Path(value)
    if not path.is_dir():
        raise FileNotFoundError(
            f"mined corpus directory {str(path)!r} does not exist (from --corpus-dir / {CORPUS_ENV})"
        )
    return path


def corpus_languages(corpus_dir: str | os.PathLike[str] | None = None) -> list[str]:
    """Languages (sub-directories holding at least one shard) of the corpus, sorted."""
    root = resolve_corpus_dir(corpus_dir)
    return sorted(
        d.name for d in root.iterdir() if d.is_dir() and any(_SHARD.match(f.name) for f in d.iterdir())
    )


def shard_paths(corpus_dir: str | os.PathLike[str] | None, split: str, language: str) -> list[Path]:
    """The sorted shard files of one split and language (``.jsonl.gz``, or plain ``.jsonl``)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    root = resolve_corpus_dir(corpus_dir)
    lang_dir = root / language
    if not lang_dir.is_dir():
        raise FileNotFoundError(
            f"mined corpus {str(root)!r} has no {language!r} directory; "
            f"languages present: {corpus_languages(root)}"
        )
    return sorted(p for p in lang_dir.iterdir() if _SHARD.match(p.name) and p.name.startswith(f"{split}-"))


def read_shard(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Records of one shard; ValueError names the file, line number and missing field on bad input."""
    for n, rec in iter_objects(path):
        require_strings(rec, REQUIRED_FIELDS, path, n)
        yield rec


def iter_corpus(
    corpus_dir: str | os.PathLike[str] | None = None,
    split: str = "train",
    languages: Iterable[str] | None = None,
) -> Iterator[dict[str, Any]]:
    """All records of a split, language by language (sorted), shard by shard."""
    langs = sorted(languages) if languages is not None else corpus_languages(corpus_dir)
    for lang in langs:
        paths = shard_paths(corpus_dir, split, lang)
        if not paths:
            logger.warning("mined corpus: no %s shards for %s", split, lang)
        for path in paths:
            yield from read_shard(path)


def load_pairs(
    corpus_dir: str | os.PathLike[str] | None, split: str, language: str, limit: int | None = None
) -> list[Pair]:
    """One split of one language as :class:`Pair` records (``source`` = ``mined-<language>-<split>``)."""
    pairs: list[Pair] = []
    for rec in iter_corpus(corpus_dir, split, [language]):
        pairs.append(Pair(rec["query"], rec["code"], rec["language"], f"mined-{language}-{split}", rec["id"]))
        if limit is not None and len(pairs) >= limit:
            break
    return pairs


def to_dataset(
    corpus_dir: str | os.PathLike[str] | None = None,
    split: str = "train",
    languages: Iterable[str] | None = None,
    limit: int | None = None,
):
    """The split as a ``datasets.Dataset`` with ``anchor``, ``positive`` and the metadata columns.

    Metadata columns: ``id, language, package, version, path, line, func_name, code_sha`` (missing values
    become ``None``; ``line`` is an int or ``None``).

    Raises:
        ImportError: ``datasets`` is not installed (``pip install 'loracode-embed[train]'``).
    """
    try:
        import datasets
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "loading the mined corpus for training needs the 'datasets' package: "
            "pip install 'loracode-embed[train]'"
        ) from exc
    columns: dict[str, list[Any]] = {"anchor": [], "positive": [], **{k: [] for k in METADATA_FIELDS}}
    for n, rec in enumerate(iter_corpus(corpus_dir, split, languages)):
        if limit is not None and n >= limit:
            break
        columns["anchor"].append(rec["query"])
        columns["positive"].append(rec["code"])
        for key in METADATA_FIELDS:
            value = rec.get(key)
            if key == "line":
                value = int(value) if value is not None else None
            elif value is not None:
                value = str(value)
            columns[key].append(value)
    features = datasets.Features(
        {
            "anchor": datasets.Value("string"),
            "positive": datasets.Value("string"),
            **{k: datasets.Value("int64" if k == "line" else "string") for k in METADATA_FIELDS},
        }
    )
    return datasets.Dataset.from_dict(columns, features=features)
