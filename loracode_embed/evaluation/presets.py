"""Named evaluation presets: ``loracode eval --preset NAME`` runs a shared set the same way every time.

Fixed presets (public sets from ``../shared/data``, see :mod:`.shared_sets`):

=====================  ==========  =============================================================
name                   task        what
=====================  ==========  =============================================================
cosqa-dev              text2code   CoSQA retrieval dev: 500 queries x 6,267 functions (tuning)
cosqa-test             text2code   CoSQA retrieval test: 500 queries x 6,267 functions (reporting)
cosqa-pairs-dev        text2code   CoSQA labelled dev: 313 positive queries x 552 codes
staqc-dev              text2code   StaQC dev: 421 positive queries x 975 snippets
csn-cloze              text2code   CodeSearchNet cloze, six languages, each ranked in its own language
csn-cloze-<lang>       text2code   one language of csn-cloze (go, java, javascript, php, python, ruby)
java-cs-valid          code2code   Java -> C#, 499 methods
java-cs-test           code2code   Java -> C#, 1,000 methods, 995 distinct C# candidates (reporting)
cs-java-test           code2code   C# -> Java, 1,000 methods
concode-dev            text2code   CONCODE dev: 2,000 descriptions -> Java
=====================  ==========  =============================================================

Presets on the mined corpus (directory from ``--corpus-dir`` or ``$LORACODE_CORPUS``):

* ``mined-<lang>-valid`` / ``mined-<lang>-test``: the mined split of one language; candidates are all
  codes of that split and language.
* ``code2code-anon-<lang>``: the anonymised (AdvTest-style) Code2Code test set built by the mining recipe,
  ``<corpus>/code2code/advtest-<lang>-test.jsonl.gz``: ``query`` = a mined test function with its name,
  parameters and locals renamed and comments removed, ``code`` = the original; candidates are all codes
  of the file.
* ``code2code-anon-java-csharp``: ``<corpus>/code2code/advtest-java-csharp-test.jsonl.gz``, the Java side
  of the CodeXGLUE Java -> C# test split anonymised; candidates are all 1,000 C# test methods from the
  shared data (also those whose Java side could not be anonymised).

Example:
    >>> from loracode_embed.evaluation.presets import load_preset
    >>> [s.name for s in load_preset("csn-cloze")]      # doctest: +SKIP
    ['csn-cloze-go', 'csn-cloze-java', 'csn-cloze-javascript', 'csn-cloze-php', 'csn-cloze-python',
     'csn-cloze-ruby']
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from loracode_embed.evaluation import shared_sets as ss
from loracode_embed.evaluation.corpus import load_pairs, resolve_corpus_dir
from loracode_embed.evaluation.pairs_file import read_pairs_jsonl
from loracode_embed.evaluation.records import EvalSet
from loracode_embed.languages import canonical_language

PathLike = str | os.PathLike[str] | None

_FIXED: dict[str, Callable[[PathLike], list[EvalSet]]] = {
    "cosqa-dev": lambda d: [ss.load_cosqa_retrieval("dev", d)],
    "cosqa-test": lambda d: [ss.load_cosqa_retrieval("test", d)],
    "cosqa-pairs-dev": lambda d: [ss.load_cosqa_labelled(d)],
    "staqc-dev": lambda d: [ss.load_staqc("dev", d)],
    "csn-cloze": lambda d: [ss.load_csn_cloze(lang, d) for lang in ss.CLOZE_LANGUAGES],
    **{
        f"csn-cloze-{lang}": (lambda d, lang=lang: [ss.load_csn_cloze(lang, d)])
        for lang in ss.CLOZE_LANGUAGES
    },
    "java-cs-valid": lambda d: [ss.load_java_cs("valid", "java-cs", d)],
    "java-cs-test": lambda d: [ss.load_java_cs("test", "java-cs", d)],
    "cs-java-test": lambda d: [ss.load_java_cs("test", "cs-java", d)],
    "concode-dev": lambda d: [ss.load_concode(d)],
}
_MINED = re.compile(r"^mined-([a-z0-9+#-]+?)-(valid|test)$")
_ANON = re.compile(r"^code2code-anon-([a-z0-9+#-]+)$")
SHARED_PRESETS: tuple[str, ...] = tuple(_FIXED)
CORPUS_PRESET_PATTERNS: tuple[str, ...] = (
    "mined-<lang>-valid",
    "mined-<lang>-test",
    "code2code-anon-<lang>",
    "code2code-anon-java-csharp",
)


def preset_names() -> list[str]:
    """Every fixed preset name plus the patterns of the corpus presets."""
    return [*SHARED_PRESETS, *CORPUS_PRESET_PATTERNS]


def _anon_file(root: Path, key: str) -> Path:
    path = root / "code2code" / f"advtest-{key}-test.jsonl.gz"
    if not path.is_file():
        raise FileNotFoundError(
            f"no anonymised Code2Code set {path.name} under {root / 'code2code'}; build it with the mining "
            "recipe (trainers/data/code2code.py) or point --corpus-dir at a corpus that has it"
        )
    return path


def load_preset(name: str, data_dir: PathLike = None, corpus_dir: PathLike = None) -> list[EvalSet]:
    """The evaluation sets of preset ``name`` (several for ``csn-cloze``, else one).

    Raises:
        ValueError: unknown preset (the message lists the valid names).
        FileNotFoundError: the shared data or the mined corpus is missing (the message names
            ``--data-dir`` / ``--corpus-dir``).
    """
    if not isinstance(name, str):
        raise TypeError(f"preset must be a str, got {type(name).__name__}")
    if name in _FIXED:
        return _FIXED[name](data_dir)
    mined = _MINED.match(name)
    if mined:
        language = canonical_language(mined.group(1))
        split = mined.group(2)
        pairs = load_pairs(corpus_dir, split, language)
        if not pairs:
            raise FileNotFoundError(
                f"mined corpus {resolve_corpus_dir(corpus_dir)} has no {split} pairs for {language}"
            )
        return [EvalSet(name, pairs, None, "text2code", language, (f"mined {split} split of {language}",))]
    anon = _ANON.match(name)
    if anon:
        root = resolve_corpus_dir(corpus_dir)
        if anon.group(1) in ("java-csharp", "java-cs"):
            pairs = read_pairs_jsonl(_anon_file(root, "java-csharp"))
            cs_lines = [p.code for p in ss.load_java_cs("test", "java-cs", data_dir).pairs]
            note = f"anonymised Java -> C#: {len(pairs)} queries, candidates = all 1,000 C# test lines"
            return [EvalSet(name, pairs, list(cs_lines), "code2code", "csharp", (note,))]
        language = canonical_language(anon.group(1))
        path = _anon_file(root, language)
        pairs = read_pairs_jsonl(path, default_language=language)
        return [EvalSet(name, pairs, None, "code2code", language, (f"anonymised Code2Code: {path}",))]
    raise ValueError(f"unknown preset {name!r}; choose one of: {', '.join(preset_names())}")


def describe(eval_set: EvalSet) -> str:
    """One line about a set: name, task, queries, candidates and notes."""
    notes = "; ".join(eval_set.notes)
    return (
        f"{eval_set.name}: {eval_set.task}, {len(eval_set.pairs)} queries, "
        f"{len(eval_set.candidate_codes())} candidates" + (f" ({notes})" if notes else "")
    )


__all__ = ["load_preset", "preset_names", "describe", "SHARED_PRESETS", "CORPUS_PRESET_PATTERNS"]
