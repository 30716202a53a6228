"""Defaults shared by the command line and the index, in a module that imports nothing heavy.

``loracode`` builds its parser, with these defaults in the help texts, before it knows which command
runs; keeping them here means a refused argument never imports numpy or tree-sitter.
"""

from __future__ import annotations

#: Folder name of the embedded store inside the indexed tree.
DEFAULT_INDEX_DIRNAME = ".loracode"
#: Chunks per embedding batch. 32, not 64: a batch of 64 chunks of 256 tokens holds about 200 MB of
#: activations on CPU; on 2 cores 32 is as fast.
DEFAULT_BATCH_SIZE = 32
#: Values of ``CodeIndex.search(mode=...)`` and ``loracode search --mode``.
SEARCH_MODES = ("auto", "per-language", "unified", "hybrid", "sparse")
