"""Reliability: hostile trees never crash the indexer; each hostile entry is skipped or handled, and counted.

Builds a tree with: invalid UTF-8 (Latin-1 bytes), UTF-16 files (with and without BOM), a 100 MB
file, a 100k-deep bracket nest (one line) and a 100k-deep nest spread over 200k lines, a binary file,
FIFOs (one named like source), symlink loops (to the tree, to itself, to a parent), a link out of the
tree, plus normal files. Runs the real `loracode index` through the core CLI with the default bundle,
then a search, and records the summary.

    PYTHONPATH=.:integrations/qdrant python benchmarks/reliability/hostile_tree.py

Writes benchmarks/results/hostile_tree.json.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": f"{REPO}:{REPO / 'integrations' / 'qdrant'}"}
OUT = REPO / "benchmarks" / "results" / "hostile_tree.json"
CLI = """
import sys
from importlib.metadata import EntryPoint
import loracode_embed.cli as c
ep = EntryPoint(name="index", value="loracode_qdrant.cli:register", group=c.PLUGIN_GROUP)
c.entry_points = lambda group: [ep] if group == c.PLUGIN_GROUP else []
sys.exit(c.main(sys.argv[1:]))
"""


def build(root: Path, outside: Path) -> dict[str, str]:
    root.mkdir(parents=True)
    outside.mkdir(parents=True)
    (outside / "secret.py").write_text("def leaked():\n    return 'outside'\n")
    made = {
        "ok.py": "def add_numbers(a, b):\n    return a + b\n",
        "latin1.py": "s = 'caf\xe9'\n\ndef greet():\n    return s\n".encode("latin-1"),
        "utf16_bom.py": "def wide_chars():\n    return 'é'\n".encode("utf-16"),
        "utf16_nobom.py": "def no_bom():\n    return 1\n".encode("utf-16-le"),
        "binary.py": bytes(range(256)) * 10,
        "deep_line.py": b"x = " + b"[" * 100_000 + b"]" * 100_000 + b"\n",
        "deep_lines.py": b"x = \\\n" + b"[\n" * 100_000 + b"]\n" * 100_000,
    }
    for name, content in made.items():
        path = root / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with open(root / "huge.py", "wb") as fh:  # 100 MB
        fh.truncate(100 * 1024 * 1024)
    os.mkfifo(root / "pipe.py")
    os.mkfifo(root / "fifo")
    (root / "sub").mkdir()
    (root / "sub" / "loop").symlink_to(root, target_is_directory=True)
    (root / "sub" / "up").symlink_to("..", target_is_directory=True)
    (root / "self.py").symlink_to(root / "self.py")
    (root / "escape").symlink_to(outside, target_is_directory=True)
    (root / "escape.py").symlink_to(outside / "secret.py")
    return {name: "" for name in made}


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="loracode-hostile-"))
    root = work / "tree"
    build(root, work / "outside")
    t0 = time.perf_counter()
    index = subprocess.run(
        [sys.executable, "-c", CLI, "index", str(root), "--json", "--max-file-kb", "1000"],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    seconds = time.perf_counter() - t0
    summary = json.loads(index.stdout) if index.returncode == 0 else None
    search = subprocess.run(
        [sys.executable, "-c", CLI, "search", "add two numbers", "--root", str(root), "--json", "-k", "3"],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=600,
    )
    hits = json.loads(search.stdout) if search.returncode == 0 else []
    result = {
        "index_exit_code": index.returncode,
        "index_stderr_tail": index.stderr.strip().splitlines()[-3:],
        "seconds": round(seconds, 1),
        "summary": summary,
        "search_exit_code": search.returncode,
        "top_hit": [(h["path"], h["symbol"]) for h in hits[:1]],
        "outside_file_indexed": any(h["path"].startswith("escape") for h in hits),
        "model": "default bundle (MiniLM, CPU)",
    }
    result["ok"] = index.returncode == 0 and search.returncode == 0 and not result["outside_file_indexed"]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
