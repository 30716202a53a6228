"""Mine many files in parallel: one bad file is counted by reason and skipped, never fatal.

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); f = d / "m.py"
    >>> _ = f.write_text("def f(a):\\n    'Return the value of a.'\\n    b = a\\n    c = b\\n    return c\\n")
    >>> result = mine_file(FileTask(str(f), "m.py", "python", "pkg", "1.0"))
    >>> [p["query"] for p in result.pairs]
    ['Return the value of a.']
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from loracode_embed.mining.dedup import code_sha
from loracode_embed.mining.docstrings import clean_comment, first_paragraph
from loracode_embed.mining.extract import ParseTimeout, extract_functions
from loracode_embed.mining.filters import file_drop_reason, pair_drop_reason
from loracode_embed.mining.holdout import holdout_path_hit

logger = logging.getLogger(__name__)

EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".go": "go",
    ".java": "java",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".php": "php",
    ".rb": "ruby",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".hxx": "cpp",
    ".cs": "csharp",
}


@dataclass(frozen=True)
class FileTask:
    """One file to mine: where it is on disk, and its provenance (path inside the package)."""

    disk_path: str
    path: str
    language: str
    package: str
    version: str


@dataclass
class FileResult:
    """Pairs kept from one file, the file's drop reason (None if it was parsed) and per-pair drops."""

    path: str
    language: str
    pairs: list[dict] = field(default_factory=list)
    file_reason: str | None = None
    pair_drops: Counter = field(default_factory=Counter)
    functions: int = 0


def language_for_file(path: str) -> str | None:
    """The mined language of a file by extension, or None."""
    return EXTENSIONS.get(os.path.splitext(path)[1].lower())


def mine_file(task: FileTask, timeout_s: float = 5.0) -> FileResult:
    """Mine one file; a failure becomes ``file_reason`` ("binary", "invalid_utf8", "parse_timeout", ...)."""
    result = FileResult(task.path, task.language)
    try:
        hit = holdout_path_hit(task.path)
        if hit:
            result.file_reason = "holdout_path"
            return result
        data = Path(task.disk_path).read_bytes()
        reason = file_drop_reason(task.path, data)
        if reason:
            result.file_reason = reason
            return result
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            result.file_reason = "invalid_utf8"
            return result
        functions = extract_functions(data, task.language, timeout_s=timeout_s)
    except ParseTimeout:
        result.file_reason = "parse_timeout"
        return result
    except OSError:
        result.file_reason = "unreadable"
        return result
    except RecursionError:
        result.file_reason = "parser_error"
        return result
    except Exception as exc:  # a parser/extractor bug on one file must not stop the run
        logger.debug("extract failed on %s: %s", task.path, exc)
        result.file_reason = "parser_error"
        return result
    result.functions = len(functions)
    for fn in functions:
        if fn.has_error:
            result.pair_drops["syntax_error"] += 1
            continue
        query = first_paragraph(clean_comment(fn.doc))
        reason = pair_drop_reason(query, fn.code, fn.name)
        if reason:
            result.pair_drops[reason] += 1
            continue
        sha = code_sha(fn.code)
        uid = hashlib.sha256(f"{task.language}:{task.package}:{task.path}:{fn.line}".encode()).hexdigest()[
            :20
        ]
        result.pairs.append(
            {
                "id": uid,
                "query": query,
                "code": fn.code,
                "language": task.language,
                "package": task.package,
                "version": task.version,
                "path": task.path,
                "line": fn.line,
                "func_name": fn.name,
                "code_sha": sha,
            }
        )
    return result


def _mine_star(args: tuple[FileTask, float]) -> FileResult:
    return mine_file(*args)


def mine_files(
    tasks: Iterable[FileTask], workers: int = 2, timeout_s: float = 5.0, chunksize: int = 16
) -> Iterator[FileResult]:
    """Mine ``tasks`` with ``workers`` processes (1 = in this process); yields results as they finish."""
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    items = ((t, timeout_s) for t in tasks)
    if workers == 1:
        yield from map(_mine_star, items)
        return
    ctx = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    with ctx.Pool(workers, maxtasksperchild=2000) as pool:
        yield from pool.imap_unordered(_mine_star, items, chunksize=chunksize)


@dataclass
class MiningStats:
    """Counters of a run: files seen/parsed, file drops and pair drops by reason, pairs kept, time."""

    files: int = 0
    files_parsed: int = 0
    functions: int = 0
    pairs: int = 0
    file_drops: Counter = field(default_factory=Counter)
    pair_drops: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    def add(self, result: FileResult) -> None:
        self.files += 1
        if result.file_reason:
            self.file_drops[result.file_reason] += 1
        else:
            self.files_parsed += 1
        self.functions += result.functions
        self.pairs += len(result.pairs)
        self.pair_drops.update(result.pair_drops)

    def as_dict(self) -> dict:
        secs = max(self.seconds, 1e-9)
        return {
            "files": self.files,
            "files_parsed": self.files_parsed,
            "documented_functions": self.functions,
            "pairs": self.pairs,
            "file_drops": dict(self.file_drops.most_common()),
            "pair_drops": dict(self.pair_drops.most_common()),
            "seconds": round(self.seconds, 2),
            "files_per_s": round(self.files / secs, 1),
            "pairs_per_s": round(self.pairs / secs, 1),
        }


def mine_tree(
    tasks: Iterable[FileTask], workers: int = 2, timeout_s: float = 5.0
) -> tuple[list[dict], MiningStats]:
    """Mine every task; returns all kept pairs (unsorted) and the run's statistics."""
    stats = MiningStats()
    pairs: list[dict] = []
    start = time.monotonic()
    for result in mine_files(tasks, workers=workers, timeout_s=timeout_s):
        stats.add(result)
        pairs.extend(result.pairs)
    stats.seconds = time.monotonic() - start
    return pairs, stats


def iter_tasks(
    root: Path | str,
    package: str,
    version: str,
    strip: str | None = None,
    languages: Iterable[str] | None = None,
) -> Iterator[FileTask]:
    """FileTasks for every mined-language file under ``root`` (symlinks skipped), sorted by path.

    ``path`` is relative to ``root`` (with the prefix ``strip`` removed if given).
    """
    root = Path(root)
    allowed = set(languages) if languages else None
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in filenames:
            lang = language_for_file(name)
            if lang is None or (allowed is not None and lang not in allowed):
                continue
            full = Path(dirpath) / name
            if full.is_symlink() or not full.is_file():
                continue
            rel = full.relative_to(root).as_posix()
            if strip and rel.startswith(strip):
                rel = rel[len(strip) :].lstrip("/")
            found.append(FileTask(str(full), rel, lang, package, version))
    found.sort(key=lambda t: t.path)
    yield from found
