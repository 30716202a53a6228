"""A new user's first minutes: arguments refused before loading, lazy adapters, quiet loading, plain help,
``encode_code(language=)`` and the default bundle's directory."""

from __future__ import annotations

import argparse
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from loracode_embed import LoRACodeModel, default_bundle_dir
from loracode_embed.cli import build_parser, main


def _subcommand_parsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def test_every_option_has_plain_help_text():
    parsers = _subcommand_parsers()
    assert {"embed", "adapters", "eval", "train", "mine"} <= set(parsers)
    for name, parser in parsers.items():
        for text in (parser.description or "", parser.epilog or ""):
            assert "``" not in text and "::" not in text, f"loracode {name}: reStructuredText in its help"
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            label = "/".join(action.option_strings) or action.dest
            assert action.help and action.help.strip(), f"loracode {name} {label} has no help text"
            assert "``" not in action.help, f"loracode {name} {label}: reStructuredText in its help"


def test_eval_help_is_plain_text(capsys):
    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    out = capsys.readouterr().out
    assert "``" not in out and "Usage::" not in out and "loracode eval --preset cosqa-test" in out


_REFUSE = textwrap.dedent(
    """
    import sys
    from loracode_embed.cli import main
    try:
        rc = main(sys.argv[1:])
    except SystemExit as exc:
        rc = exc.code
    heavy = {"torch", "transformers", "sentence_transformers"} & set(sys.modules)
    print(rc, sorted(heavy))
    """
)


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["embed", "--language", "klingon", "x"], 2, "Unknown language 'klingon'"),
        (["embed", "--adapter", "nope", "x"], 1, "Unknown adapter 'nope'. Available: auto, base, code2code"),
        (["embed", "--batch-size", "0", "x"], 2, "must be a positive integer"),
        (["embed", "--file", "/no/such/file.py"], 1, "--file '/no/such/file.py': no such file"),
    ],
)
def test_bad_arguments_are_refused_before_torch_is_imported(argv, code, message):
    out = subprocess.run([sys.executable, "-c", _REFUSE, *argv], capture_output=True, text=True)
    assert out.stdout.strip() == f"{code} []"  # the exit status, and no heavy module imported
    assert message in out.stderr


def test_bundle_adapters_load_on_first_use():
    model = LoRACodeModel.from_pretrained(device="cpu")
    assert model.loaded_adapters == []
    model.encode_code(["func F() {}"], language="go")
    assert model.loaded_adapters == ["text2code-go"]
    model.encode_query_in_spaces("read a file", ["text2code-python", "code2code", "base"])
    assert model.loaded_adapters == ["code2code", "text2code-go", "text2code-python"]


def test_lazy_loading_gives_the_vectors_of_eager_loading(tiny_model, tiny_bundle):
    lazy = LoRACodeModel.from_pretrained(tiny_bundle, device="cpu")
    texts = ["def f(x):\n    return x", "func F() {}", "read a file"]
    langs = ["python", "go", None]
    np.testing.assert_allclose(
        lazy.encode_code(texts, languages=langs), tiny_model.encode_code(texts, languages=langs), atol=1e-6
    )
    assert lazy.loaded_adapters == ["text2code", "text2code-python"]


def test_encode_code_takes_language_as_encode_query_does(tiny_model):
    texts = ["def f(x):\n    return x", "x = 1"]
    one = tiny_model.encode_code(texts, language="python")
    np.testing.assert_array_equal(one, tiny_model.encode_code(texts, languages="python"))
    np.testing.assert_array_equal(one, tiny_model.encode_code(texts, languages=["python", "python"]))
    assert not np.allclose(one, tiny_model.encode_code(texts, language="go"))  # the python adapter was used
    with pytest.raises(ValueError, match="either language= .* or languages="):
        tiny_model.encode_code(texts, language="python", languages=["python", "go"])
    with pytest.raises(TypeError, match="language must be a string"):
        tiny_model.encode_code(texts, language=["python", "go"])
    with pytest.raises(ValueError, match="klingon"):
        tiny_model.encode_code(texts, language="klingon")


def test_default_bundle_dir_and_adapters_path(capsys):
    bundle = default_bundle_dir()
    assert (bundle / "loracode.json").is_file() and (bundle / "modules.json").is_file()
    assert main(["adapters", "--path"]) == 0
    assert capsys.readouterr().out.strip() == str(bundle.resolve())


def test_no_loading_progress_bars_when_stderr_is_not_a_terminal():
    """Even with -v: progress bars are for terminals. Loads the real model in a subprocess."""
    out = subprocess.run(
        [sys.executable, "-m", "loracode_embed.cli", "-v", "embed", "--language", "go", "x"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert "Loading weights" not in out.stderr and "%|" not in out.stderr
    assert "Loaded adapter text2code-go" in out.stderr  # -v does log which adapters were loaded


def test_the_parser_imports_nothing_heavy():
    """`loracode` builds its parser (core and plugin commands) before it can refuse an argument."""
    code = (
        "import sys; from loracode_embed.cli import build_parser; build_parser(); "
        "print(sorted({'numpy', 'torch', 'tree_sitter', 'qdrant_edge', 'qdrant_client'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
