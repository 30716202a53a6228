"""Copy a language's packed valid split into the eval corpus, with the ``id`` the presets need.

The packs of this session kept only query, code, language, package and path (``pack_training_data.py``
keeps ``id`` since, so a later session needs no such step); ``mined-<lang>-valid`` reads
``<corpus>/<lang>/valid-*.jsonl.gz`` records with an ``id`` too: ``<lang>-valid-<line>``.

    python valid_for_eval.py /tmp/corpus /tmp/evalcorpus python go
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

corpus, target, *languages = sys.argv[1:]
for lang in languages:
    rows = [json.loads(line) for line in gzip.open(Path(corpus) / lang / "valid-00000.jsonl.gz", "rt")]
    (Path(target) / lang).mkdir(parents=True, exist_ok=True)
    with gzip.open(Path(target) / lang / "valid-00000.jsonl.gz", "wt", encoding="utf-8") as fh:
        for i, row in enumerate(rows):
            fh.write(json.dumps({"id": f"{lang}-valid-{i}", **row}) + "\n")
    print(lang, len(rows), "valid pairs for the eval corpus")
