"""Benchmark: dense vs hybrid (dense + identifier-aware BM25) vs sparse search, in six languages.

How the labelled set is built (``SET=report``: held-out projects, shared/HOLDOUT.md; ``SET=dev``:
other projects, the only ones the fusion settings were tuned on):

1. Real code from the registries: Debian binary packages (Go ``golang-github-*-dev``, Ruby ``ruby-*``,
   PHP ``php-*``, via ``apt-get download``), Debian source packages (Java, ``apt-get source`` through a
   private deb-src list), npm tarballs (``npm pack``), and Python packages installed in the venv.
   Test folders are left out. Each language is capped at ``MAX_FILES`` files.
2. Question queries: every function/method chunk (the project's own tree-sitter chunker) that starts
   with a doc comment (``//``, ``/** */``, ``#``) gives the comment's first sentence (tags such as
   ``@param`` and markup removed; at least 4 words, unique); Python uses docstrings, exactly as
   ``benchmarks/search_quality.py`` does. The comment (docstring) is blanked in the indexed copy, line
   numbers unchanged, so the answer text is never in the index. Relevant: the chunk covering the
   definition's first line.
3. Identifier queries: the exact name of a function defined once in the language's corpus, an
   ALL_CAPS constant assigned once, or the message of a ``raise`` / ``throw`` that occurs once.
   Relevant: the chunk covering that line.
4. One index over all six languages (default bundle, ``dtype=auto``); each query searched without a
   language filter in each mode; MRR@10 and R@1/R@10 per language and kind.

Run from the repository root (downloads into ``DOWNLOADS``, default ``/tmp/h17src``)::

    SET=report PYTHONPATH=.:integrations/qdrant python benchmarks/hybrid_quality.py
    SET=dev    PYTHONPATH=.:integrations/qdrant python benchmarks/hybrid_quality.py

Writes ``benchmarks/results/hybrid_quality_<set>.json`` (``OUT=<name>.json``: another file there).
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

# ---- knobs
SET = os.environ.get("SET", "report")
DOWNLOADS = Path(os.environ.get("DOWNLOADS", "/tmp/h17src"))
MAX_FILES = int(os.environ.get("MAX_FILES", "120"))
MAX_QUESTIONS = int(os.environ.get("MAX_QUESTIONS", "150"))
MAX_IDENTIFIERS = int(os.environ.get("MAX_IDENTIFIERS", "100"))
MODES = os.environ.get("MODES", "per-language,hybrid,sparse").split(",")
SIZE_LANGUAGE = os.environ.get("SIZE_LANGUAGE", "java")
# Extra hybrid settings to compare (the tuning on SET=dev), "fusion:sparse_weight[:defines_weight[:first]]",
# e.g. "rrf:0.5,dbsf:1:0:0" (defines_weight: hybrid.DEFINES_WEIGHT unless given, 0 = no defines terms;
# first: 1/0 = hybrid.DEFINITIONS_FIRST on/off, default on; "dbsf:1:0:0" is the search before both)
VARIANTS = [v for v in os.environ.get("VARIANTS", "").split(",") if v]
# Index layouts to compare, ";"-separated CodeIndex(spaces=...) values, e.g. "language;all": one index
# each, every mode searched in each (results keyed "mode@spaces"; a mode an index cannot serve is
# left out). Empty: one index with the default spaces.
SPACES = [v for v in os.environ.get("SPACES", "").split(";") if v]
# REUSE=1: measure again the set and index kept in WORKDIR by an earlier run (its set.json); the index
# run is then incremental (nothing embedded; stored sparse vectors of an older version are recomputed)
REUSE = os.environ.get("REUSE") == "1"
# FAILURES=n: print the first n identifier queries that the default hybrid search does not rank first
FAILURES = int(os.environ.get("FAILURES", "0"))
K = 10
SEED = 0
WORKDIR = Path(os.environ.get("WORKDIR") or tempfile.mkdtemp(prefix="loracode-hybrid-"))
OUT = Path(__file__).resolve().parent / "results" / os.environ.get("OUT", f"hybrid_quality_{SET}.json")

# (kind, name, language); kinds: deb (binary package), debsrc (source package), npm, py (installed)
SOURCES = {
    "report": [  # held out: shared/HOLDOUT.md
        ("py", "marshmallow", "python"), ("py", "dateutil", "python"),
        ("deb", "golang-github-spf13-cobra-dev", "go"), ("deb", "golang-github-gorilla-mux-dev", "go"),
        ("deb", "golang-github-hashicorp-raft-dev", "go"), ("deb", "golang-github-lib-pq-dev", "go"),
        ("deb", "golang-github-shopspring-decimal-dev", "go"),
        ("deb", "ruby-rack", "ruby"), ("deb", "ruby-thor", "ruby"), ("deb", "ruby-i18n", "ruby"),
        ("deb", "ruby-addressable", "ruby"),
        ("deb", "php-symfony-console", "php"), ("deb", "php-monolog", "php"), ("deb", "php-predis", "php"),
        ("npm", "commander@11.1.0", "javascript"), ("npm", "ws@8.16.0", "javascript"),
        ("npm", "express@4.18.2", "javascript"), ("npm", "jszip@3.10.1", "javascript"),
        ("debsrc", "libcommons-lang3-java", "java"), ("debsrc", "jsoup", "java"),
        ("debsrc", "commons-csv", "java"), ("debsrc", "args4j", "java"),
    ],
    "dev": [  # not held out; the fusion settings were chosen on this set
        ("py", "click", "python"), ("py", "attr", "python"),
        ("deb", "golang-github-spf13-pflag-dev", "go"), ("deb", "golang-github-pkg-errors-dev", "go"),
        ("deb", "ruby-rspec-core", "ruby"), ("deb", "php-symfony-yaml", "php"),
        ("npm", "yargs@17.7.2", "javascript"), ("npm", "chalk@4.1.2", "javascript"),
        ("debsrc", "libcommons-collections4-java", "java"),
    ],
}  # fmt: skip
EXT = {"python": ".py", "go": ".go", "ruby": ".rb", "php": ".php", "javascript": ".js", "java": ".java"}
_SKIP_DIR = re.compile(r"(^|/)(tests?|spec|testdata|examples?|benchmarks?|docs?)(/|$)", re.I)

from loracode_qdrant import CodeIndex  # noqa: E402
from loracode_qdrant.chunking import Chunker  # noqa: E402

from loracode_embed import LoRACodeModel  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine_info import machine_description  # noqa: E402
from search_quality import first_sentence, strip_and_label  # noqa: E402


# ---------------------------------------------------------------- 1. sources
def fetch(kind: str, name: str, dest: Path) -> Path:
    """The downloaded archive (fetched if missing): a .deb, an .orig.tar.*, an npm .tgz."""
    dest.mkdir(parents=True, exist_ok=True)
    pattern = {"deb": f"{name}_*.deb", "debsrc": f"{name}_*.orig.tar.*",
               "npm": f"{name.split('@')[0]}-{name.split('@')[-1]}.tgz"}[kind]  # fmt: skip
    found = sorted(dest.glob(pattern))
    if found:
        return found[0]
    if kind == "deb":
        subprocess.run(["apt-get", "download", "-q", name], cwd=dest, check=True)
    elif kind == "npm":
        subprocess.run(["npm", "pack", "--silent", name], cwd=dest, check=True)
    else:
        apt = dest / "apt"
        (apt / "etc").mkdir(parents=True, exist_ok=True)
        (apt / "lists" / "partial").mkdir(parents=True, exist_ok=True)
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "trainers" / "data"))
        from download import DEB_SRC

        (apt / "etc" / "debsrc.sources").write_text(DEB_SRC)
        opts = ["-o", f"Dir::Etc::SourceList={apt / 'etc' / 'none.list'}", "-o",
                f"Dir::Etc::SourceParts={apt / 'etc'}", "-o", f"Dir::State::Lists={apt / 'lists'}"]  # fmt: skip
        if not any((apt / "lists").glob("*Sources*")):
            subprocess.run(["apt-get", *opts, "update", "-q"], check=True)
        # not check=True: the orig tarball is all we need, and a missing .debian.tar fails the command
        subprocess.run(["apt-get", *opts, "source", "--download-only", "-q", name], cwd=dest)
    found = sorted(dest.glob(pattern))
    if not found:
        raise FileNotFoundError(f"Could not download {kind} {name!r} into {dest}")
    return found[0]


def unpack(kind: str, name: str, language: str, tree: Path) -> str:
    """Copy the project's source files of ``language`` (no test folders) to ``tree/<language>/<project>``."""
    project = re.sub(r"[@_].*", "", name)
    out = tree / language / project
    if kind == "py":
        import importlib

        src = Path(importlib.import_module(name).__file__).parent  # type: ignore[arg-type]
        shutil.copytree(src, out / name, ignore=shutil.ignore_patterns("__pycache__", "tests"))
        return str(src)
    archive = fetch(kind, name, DOWNLOADS / ("dev" if SET == "dev" else "report"))
    raw = Path(tempfile.mkdtemp(prefix="unpack-"))
    if kind == "deb":
        subprocess.run(["dpkg-deb", "-x", str(archive), str(raw)], check=True)
    else:
        with tarfile.open(archive) as tar:
            tar.extractall(raw, filter="data")
    for path in sorted(raw.rglob(f"*{EXT[language]}")):
        rel = path.relative_to(raw).as_posix()
        if path.is_file() and not _SKIP_DIR.search(rel) and "Test" not in path.name:
            dst = out / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dst)
    shutil.rmtree(raw, ignore_errors=True)
    return archive.name


def cap_files(tree: Path, language: str) -> None:
    """Keep at most MAX_FILES files of a language (a seeded sample), so every language costs alike."""
    files = sorted(p for p in (tree / language).rglob("*") if p.is_file())
    random.Random(SEED).shuffle(files)
    for path in files[MAX_FILES:]:
        path.unlink()


# ---------------------------------------------------------------- 2./3. labels
_COMMENT = re.compile(r"^\s*(//+|/\*+|\*/|\*|#)")
_TAG = re.compile(r"\{@\w+\s+([^}]*)\}|<[^>]+>|`")


def _comment_text(lines: list[str]) -> str:
    words = []
    for line in lines:
        body = _COMMENT.sub("", line).replace("*/", "").strip()
        if body.startswith("@") or body.startswith("=begin") or body.startswith("!"):
            break
        words.append(body)
    text = _TAG.sub(lambda m: m.group(1) or "", " ".join(words))
    return first_sentence(text)


def label_comments(root: Path, language: str, chunker: Chunker) -> list[dict]:
    """Question labels from doc comments above definitions; the comments are blanked in place."""
    labels = []
    for path in sorted((root / language).rglob(f"*{EXT[language]}")):
        data = path.read_bytes()
        try:
            chunks = chunker.chunk(data, language)
        except Exception:  # noqa: BLE001 - an odd file is left out of the labels, not the index
            continue
        lines = data.decode("utf-8", "replace").splitlines(keepends=True)
        for c in chunks:
            if c.symbol is None or not c.kind.startswith(("function", "method")) or c.kind.endswith("part"):
                continue
            first = c.start_line - 1
            i = first
            while i < len(lines) and i < c.end_line and (_COMMENT.match(lines[i]) or not lines[i].strip()):
                i += 1
            comment = [ln for ln in lines[first:i] if ln.strip()]
            if not comment or i >= c.end_line:
                continue
            query = _comment_text(comment)
            if len(query.split()) < 4:
                continue
            for j in range(first, i):
                lines[j] = "\n"
            labels.append({"query": query, "path": path.relative_to(root).as_posix(), "line": i + 1,
                           "name": c.symbol, "kind": "question"})  # fmt: skip
        path.write_text("".join(lines), encoding="utf-8")
    return labels


_CONST = re.compile(r"^\s*(?:(?:export|public|private|protected|static|final|const|var|let|define\()\s*)*"
                    r"['\"]?([A-Z][A-Z0-9]*_[A-Z0-9_]+)['\"]?\s*[=,:]")  # fmt: skip
_NAME = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
_ERROR = re.compile(
    r"\b(?:raise|throw|panic|errors\.New|fmt\.Errorf)\b[^'\"\n]*(['\"])([^'\"\n%{}$]{16,90})\1"
)


def label_identifiers(root: Path, language: str, chunker: Chunker) -> list[dict]:
    """Identifier labels: function names defined once, constants assigned once, unique error messages."""
    found: dict[tuple[str, str], list[tuple[str, int]]] = defaultdict(list)
    for path in sorted((root / language).rglob(f"*{EXT[language]}")):
        rel = path.relative_to(root).as_posix()
        data = path.read_bytes()
        try:
            chunks = chunker.chunk(data, language)
        except Exception:  # noqa: BLE001
            chunks = []
        for c in chunks:
            if c.symbol and c.kind.startswith(("function", "method")) and not c.kind.endswith("part"):
                name = c.symbol.split(".")[-1]
                if len(name) >= 6 and _NAME.match(name):
                    found[("name", name)].append((rel, c.start_line))
        for n, line in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
            if m := _CONST.match(line):
                found[("constant", m.group(1))].append((rel, n))
            if m := _ERROR.search(line):
                found[("error", m.group(2))].append((rel, n))
    labels = []
    for (kind, query), places in found.items():
        if len(places) == 1:
            labels.append({"query": query, "path": places[0][0], "line": places[0][1], "kind": kind})
    return labels


# ---------------------------------------------------------------- 4. evaluation
def _rank(hits: list, label: dict) -> int | None:
    return next((i + 1 for i, h in enumerate(hits)
                 if h.path == label["path"] and h.start_line <= label["line"] <= h.end_line), None)  # fmt: skip


def evaluate(index: CodeIndex, labels: list[dict], mode: str, failures: int = 0) -> dict:
    """MRR@10, R@1, R@10 per language and query kind (and identifier kind), and overall."""
    groups: dict[str, list[int | None]] = defaultdict(list)
    times = []
    shown = 0
    for label in labels:
        task = "text2code" if label["kind"] == "question" else "auto"
        t0 = time.perf_counter()
        hits = index.search(label["query"], k=K, mode=mode, task=task)
        times.append(time.perf_counter() - t0)
        rank = _rank(hits, label)
        kind = "question" if label["kind"] == "question" else "identifier"
        for key in ("all", f"{label['language']}", f"{label['language']}/{kind}", kind):
            groups[key].append(rank)
        if kind == "identifier":
            groups[f"identifier/{label['kind']}"].append(rank)
            if rank != 1 and shown < failures:
                shown += 1
                print(
                    f"[{label['kind']}] {label['query']!r}: wanted {label['path']}:{label['line']}, rank {rank}"
                )
                for h in hits[:3]:
                    print(f"    {h.path}:{h.start_line}-{h.end_line} {h.kind} {h.symbol} {h.score:.3f}")

    def stats(ranks: list[int | None]) -> dict:
        n = len(ranks)
        return {"n": n, "mrr@10": round(sum(1 / r for r in ranks if r) / n, 4),
                "recall@1": round(sum(r == 1 for r in ranks) / n, 4),
                "recall@10": round(sum(r is not None for r in ranks) / n, 4)}  # fmt: skip

    out = {key: stats(ranks) for key, ranks in sorted(groups.items())}
    out["mean_search_ms"] = round(1000 * sum(times) / len(times), 1)  # type: ignore[assignment]
    return out


def disk_usage(folder: Path) -> int:
    """Bytes on disk (allocated blocks: Qdrant Edge's files are sparse, their st_size overstates)."""
    return sum(p.stat().st_blocks * 512 for p in folder.rglob("*") if p.is_file())


def store_growth(tree: Path, model: LoRACodeModel) -> dict:
    """Disk use of one language's index with and without the sparse vectors (both optimized)."""
    from loracode_qdrant import hybrid
    from loracode_qdrant.sparse import SparseVector

    out = {"tree": tree.name}
    keep = hybrid.sparse_document
    for label, fn in (
        ("dense_only", lambda path, text, symbol=None: SparseVector([], [])),
        ("with_sparse", keep),
    ):
        hybrid.sparse_document = fn
        folder = WORKDIR / f"size-{label}"
        with CodeIndex(tree, model=model, index_dir=folder, show_progress=False) as index:
            index.index()
        out[f"{label}_bytes"] = disk_usage(folder)
    hybrid.sparse_document = keep
    out["growth"] = round(out["with_sparse_bytes"] / out["dense_only_bytes"] - 1, 4)
    return out


def build_set(tree: Path, model: LoRACodeModel) -> tuple[dict[str, list[str]], list[dict]]:
    """Download and unpack the sources into ``tree``, label them; returns the sources and the labels."""
    chunker = Chunker(model.count_tokens, int(model.max_seq_length))
    sources: dict[str, list[str]] = defaultdict(list)
    for kind, name, language in SOURCES[SET]:
        sources[language].append(unpack(kind, name, language, tree))
    labels: list[dict] = []
    rng = random.Random(SEED)
    for language in sorted(sources):
        cap_files(tree, language)
        if language == "python":
            # docstrings, as search_quality.py (paths relative to tree/python's parent layout)
            questions = []
            for project in sorted((tree / "python").iterdir()):
                staged = WORKDIR / "py-src" / project.name
                staged.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(str(project), staged)
                for pkg in sorted(staged.iterdir()):
                    for q in strip_and_label(pkg, tree / "python" / project.name):
                        q["path"] = f"python/{project.name}/{q['path']}"
                        questions.append({**q, "kind": "question"})
        else:
            questions = label_comments(tree, language, chunker)
        identifiers = label_identifiers(tree, language, chunker)
        counts = Counter(q["query"] for q in questions)
        questions = [q for q in questions if counts[q["query"]] == 1]
        rng.shuffle(questions)
        rng.shuffle(identifiers)
        for q in questions[:MAX_QUESTIONS] + identifiers[:MAX_IDENTIFIERS]:
            labels.append({**q, "language": language})
    return dict(sources), labels


def main() -> None:
    tree = WORKDIR / "tree"
    model = LoRACodeModel.from_pretrained(dtype="auto")
    kept = WORKDIR / "set.json"
    if REUSE and kept.exists():
        saved = json.loads(kept.read_text())
        sources, labels = saved["sources"], saved["labels"]
    else:
        shutil.rmtree(WORKDIR, ignore_errors=True)
        sources, labels = build_set(tree, model)
        kept.write_text(json.dumps({"sources": sources, "labels": labels}))
    from loracode_qdrant import hybrid

    results: dict = {}
    for spaces in SPACES or [None]:
        folder = WORKDIR / ("idx" if spaces is None else f"idx-{spaces}")
        suffix = "" if spaces is None else f"@{spaces}"
        with CodeIndex(tree, model=model, index_dir=folder, show_progress=False, spaces=spaces) as index:
            t0 = time.perf_counter()
            summary = index.index()
            if spaces is not None:
                results[f"index{suffix}"] = {"seconds": round(time.perf_counter() - t0, 1),
                                             "embedded": summary.chunks_embedded}  # fmt: skip
            status = index.status()
            # a label in a file the indexer skips (a build/ or dist/ folder, a generated file) has no answer
            indexed = {h.payload["path"] for h in index.store.scroll("file", ["path"])}
            skipped = Counter(q["language"] for q in labels if q["path"] not in indexed)
            kept_labels = [q for q in labels if q["path"] in indexed]
            for mode in MODES:
                if mode != "unified" or "unified" in index.space_kinds:
                    failures = FAILURES if mode == "hybrid" and spaces is None else 0
                    results[f"{mode}{suffix}"] = evaluate(index, kept_labels, mode, failures)
            default = (hybrid.FUSION, hybrid.SPARSE_WEIGHT, hybrid.DEFINES_WEIGHT, hybrid.DEFINITIONS_FIRST)
            for variant in VARIANTS:
                fusion, weight, *rest = variant.split(":")
                hybrid.FUSION, hybrid.SPARSE_WEIGHT = fusion, float(weight)
                hybrid.DEFINES_WEIGHT = float(rest[0]) if rest else default[2]
                hybrid.DEFINITIONS_FIRST = rest[1:] != ["0"]
                results[f"hybrid[{variant}]{suffix}"] = evaluate(index, kept_labels, "hybrid")
            hybrid.FUSION, hybrid.SPARSE_WEIGHT, hybrid.DEFINES_WEIGHT, hybrid.DEFINITIONS_FIRST = default
    labels = kept_labels
    size = disk_usage(folder)
    sizes = store_growth(tree / SIZE_LANGUAGE, model) if SIZE_LANGUAGE else None
    result = {
        "set": SET,
        "sources": sources,
        "files": status.files,
        "chunks": status.chunks,
        "hybrid_settings": hybrid.plan_defaults(),
        "sparse_version": hybrid.SPARSE_VERSION,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "index_disk_bytes": size,
        "store_growth": sizes,
        "queries": dict(Counter(f"{q['language']}/{q['kind']}" for q in labels)),
        "queries_per_language": dict(Counter(q["language"] for q in labels)),
        "labels_dropped_file_not_indexed": dict(skipped),
        "model": f"default bundle (all-MiniLM-L6-v2, adapters: {', '.join(model.adapters) or 'none'}), "
        "dtype auto, CPU",
        "results": results,
        "examples": [labels[i] for i in range(0, len(labels), max(1, len(labels) // 12))],
        "machine": machine_description(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    summary_rows = {m: {k: v["mrr@10"] for k, v in r.items() if isinstance(v, dict) and "/" not in k}
                    for m, r in results.items()}  # fmt: skip
    print(json.dumps(summary_rows, indent=2))


if __name__ == "__main__":
    main()
