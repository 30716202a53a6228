"""The sentence-transformers files of a bundle and of an exported adapter.

A bundle's ``modules.json`` starts with :class:`loracode_embed.st_module.LoRACodeTransformer`, which
reads ``loracode.json``; the pooling and normalisation modules after it are the base model's own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROUTER_CLASS = "loracode_embed.st_module.LoRACodeTransformer"


def write_st_files(st_model: Any, out: Path, max_seq_length: int) -> None:
    """Write ``modules.json`` and the config of every module after the transformer into ``out``."""
    modules = [{"idx": 0, "name": "0", "path": "", "type": ROUTER_CLASS}]
    for idx in range(1, len(st_model)):
        module = st_model[idx]
        folder = f"{idx}_{type(module).__name__}"
        (out / folder).mkdir(parents=True, exist_ok=True)
        module.save(str(out / folder))
        class_ref = f"{type(module).__module__}.{type(module).__name__}"
        modules.append({"idx": idx, "name": str(idx), "path": folder, "type": class_ref})
    _write_json(out / "modules.json", modules)
    _write_json(out / "sentence_bert_config.json", {"max_seq_length": max_seq_length, "do_lower_case": False})
    _write_json(out / "config_sentence_transformers.json", {"model_type": "SentenceTransformer"})


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")
