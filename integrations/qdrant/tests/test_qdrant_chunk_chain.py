from __future__ import annotations

from loracode_qdrant.chunking import Chunker


def test_long_operator_chain_does_not_recurse_without_bound() -> None:
    # a + b + c + ... parses as a left-deep binary tree: 3000 levels of two children each
    src = ("def total():\n    return (" + " + ".join(f"v{i}" for i in range(3000)) + ")\n").encode()
    chunker = Chunker(lambda texts: [len(t) // 3 + 1 for t in texts], 64)
    chunks = chunker.chunk(src, "python")
    assert chunks and all(len(c.text) // 3 + 1 <= 64 for c in chunks)
    assert all(c.symbol == "total" for c in chunks)
