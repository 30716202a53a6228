"""Defaults shared by the command line and the index, in a module that imports nothing heavy.

``loracode`` builds its parser, with these defaults in the help texts, before it knows which command
runs; keeping them here means a refused argument never imports numpy or tree-sitter. A search answered
by a running server (:mod:`loracode_qdrant.server_search`) finds the index with
:func:`nearest_indexed_folder` using nothing but ``os``.

Example:
    >>> import tempfile
    >>> nearest_indexed_folder(tempfile.mkdtemp()) is None   # no index here or above
    True
"""

from __future__ import annotations

import os

#: Folder name of the embedded store inside the indexed tree.
DEFAULT_INDEX_DIRNAME = ".loracode"
#: Chunks per embedding batch. 32, not 64: a batch of 64 chunks of 256 tokens holds about 200 MB of
#: activations on CPU; on 2 cores 32 is as fast.
DEFAULT_BATCH_SIZE = 32
#: Values of ``CodeIndex.search(mode=...)`` and ``loracode search --mode``.
SEARCH_MODES = ("auto", "per-language", "unified", "hybrid", "sparse")
#: Values of ``CodeIndex.search(task=...)`` and ``loracode search --task``.
SEARCH_TASKS = ("auto", "text2code", "code2code")
#: File name of the last index run's record beside the shard (:mod:`loracode_qdrant.runlog`).
RUN_FILE = "last_run.json"


def nearest_indexed_folder(start: str) -> str | None:
    """``start`` or its nearest parent whose ``.loracode`` holds an embedded index (a shard, or a run record
    of a first run still going), or ``None``; ``loracode search`` and ``status`` look there by default."""
    folder = os.path.abspath(start)
    while True:
        index_dir = os.path.join(folder, DEFAULT_INDEX_DIRNAME)
        if os.path.isdir(os.path.join(index_dir, "shard")) or os.path.isfile(
            os.path.join(index_dir, RUN_FILE)
        ):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent
