"""QueryEncoder (numpy) gives LoRACodeModel's float32 query vectors, loads adapters lazily, imports no torch."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from loracode_embed.query_encoder import QueryEncoder, UnsupportedModel

QUERIES = ["read a yaml file into a dict", "def parse(s):\n    return json.loads(s)", ""]


@pytest.mark.parametrize("adapter", ["base", "text2code", "text2code-python", "code2code"])
def test_tiny_bundle_vectors_match_the_torch_model(tiny_model, tiny_bundle, adapter: str) -> None:
    encoder = QueryEncoder.from_pretrained(tiny_bundle)
    ours = encoder.encode_query(QUERIES, adapter=adapter)
    theirs = tiny_model.encode_query(QUERIES, adapter=adapter)
    assert ours.dtype == np.float32 and ours.shape == theirs.shape
    np.testing.assert_allclose((ours * theirs).sum(axis=1), 1.0, atol=1e-5)


def test_adapters_change_the_vectors_and_load_only_when_used(tiny_bundle) -> None:
    encoder = QueryEncoder.from_pretrained(tiny_bundle)
    assert encoder.loaded_adapters == []
    rows = encoder.encode_query_in_spaces("sort a list", ["base", "text2code-python"])
    assert encoder.loaded_adapters == ["text2code-python"]
    assert float(rows[0] @ rows[1]) < 0.9999  # the adapter is not a no-op, so it was applied


def test_default_bundle_routes_and_matches(minilm) -> None:
    encoder = QueryEncoder.from_pretrained()
    assert encoder.fingerprint == minilm.fingerprint and encoder.adapters == minilm.adapters
    assert encoder.route("text2code", "ruby") == minilm.route("text2code", "ruby")
    spaces = ["base", "text2code-go", "code2code"]
    theirs = minilm.encode_query_in_spaces("retry an http request", spaces)
    ours = encoder.encode_query_in_spaces("retry an http request", spaces)
    np.testing.assert_allclose((ours * theirs).sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(
        (encoder.encode_query(QUERIES, language="go") * minilm.encode_query(QUERIES, language="go")).sum(1),
        1.0,
        atol=1e-5,
    )


def test_errors_match_the_torch_model(tiny_bundle) -> None:
    encoder = QueryEncoder.from_pretrained(tiny_bundle)
    with pytest.raises(ValueError, match="Unknown adapter 'nope'. Available: code2code"):
        encoder.encode_query(["x"], adapter="nope")
    with pytest.raises(ValueError, match="klingon"):
        encoder.encode_query(["x"], language="klingon")
    with pytest.raises(TypeError, match="not a single str"):
        encoder.encode_query("x")
    with pytest.raises(ValueError, match="longer than the model's limit"):
        encoder.encode_query(["word " * 1000], strict=True)


def test_unsupported_pooling_is_refused(tiny_bundle, tmp_path) -> None:
    import shutil

    manifest = json.loads((tiny_bundle / "loracode.json").read_text())
    base = tmp_path / "base"
    shutil.copytree(manifest["base"]["name"], base)
    (base / "1_Pooling").mkdir()
    (base / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    (base / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]))  # fmt: skip
    with pytest.raises(UnsupportedModel, match="not mean pooling"):
        QueryEncoder.from_pretrained(tiny_bundle, base=base)


def test_loading_and_encoding_import_no_torch() -> None:
    code = (
        "import sys\n"
        "from loracode_embed.query_encoder import QueryEncoder\n"
        "QueryEncoder.from_pretrained().encode_query(['sort a list'], language='python')\n"
        "sys.exit('torch' in sys.modules or 'transformers' in sys.modules)\n"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
