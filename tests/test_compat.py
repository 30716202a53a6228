"""Adapters load and switch through PEFT's own functions, whatever transformers' PEFT gate demands."""

import sys

import numpy as np
import pytest
from conftest import CODE_SAMPLES, TINY_BASE, tiny_adapter_specs

from loracode_embed import LoRACodeModel
from loracode_embed.adapters import activate, load_adapter_into
from loracode_embed.compat import DependencyError, import_peft
from loracode_embed.manifest import ManifestError


def test_loading_never_calls_transformers_peft_integration(monkeypatch):
    """transformers 5.24+ gates add_adapter/set_adapter/enable_adapters/... on an unpublished peft; the
    core must work even when every one of those methods raises."""
    from transformers.integrations.peft import PeftAdapterMixin

    def gated(*args, **kwargs):
        raise ValueError("The version of PEFT you are using is not compatible, please use a version >= 9.9")

    for name in ("load_adapter", "add_adapter", "set_adapter", "enable_adapters", "disable_adapters"):
        monkeypatch.setattr(PeftAdapterMixin, name, gated)
    monkeypatch.setattr(PeftAdapterMixin, "active_adapters", gated)
    model = LoRACodeModel.from_base(TINY_BASE, adapters=tiny_adapter_specs(), device="cpu")
    python = model.encode_code(CODE_SAMPLES, adapter="text2code-python")
    base = model.encode_code(CODE_SAMPLES, adapter="base")
    assert np.abs(python - base).max() > 1e-3  # the adapter is live and not a no-op


def test_loaded_adapters_are_in_eval_mode(tiny_model):
    """New LoRA modules start in training mode; active dropout at inference would make vectors random."""
    assert [name for name, m in tiny_model._st.named_modules() if m.training] == []
    first = tiny_model.encode_code(CODE_SAMPLES, adapter="code2code")
    np.testing.assert_array_equal(first, tiny_model.encode_code(CODE_SAMPLES, adapter="code2code"))


def test_adapters_load_frozen(tiny_model):
    assert not any(p.requires_grad for p in tiny_model._st.parameters())


def test_activate_unknown_adapter_is_named(tiny_model):
    with pytest.raises(ValueError, match="adapter 'nope' is not loaded"):
        activate(tiny_model._st[0].model, "nope")


def test_loading_the_same_name_twice_is_refused(tiny_model):
    folder = tiny_model._adapter_folders["code2code"]
    with pytest.raises(ManifestError, match="'code2code' is already loaded"):
        load_adapter_into(tiny_model._st[0].model, "code2code", folder)


def test_broken_peft_import_names_versions_and_fix(monkeypatch):
    monkeypatch.setitem(sys.modules, "peft.functional", None)  # as if peft no longer imported cleanly
    with pytest.raises(DependencyError) as info:
        import_peft()
    message = str(info.value)
    for needed in ("transformers ", "peft ", "requirements.lock", "pip install"):
        assert needed in message
