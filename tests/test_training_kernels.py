"""Training-speed layers: fused LoRA forward/backward and LayerNorms kept in bf16 under autocast.

Both change how the step is computed, not what: outputs and gradients must match PEFT's and
PyTorch's own modules.
"""

from __future__ import annotations

import pytest
import torch
from peft import LoraConfig, get_peft_model

from loracode_embed.training.fused_lora import use_fused_lora
from loracode_embed.training.norms import WeightDtypeLayerNorm, keep_layer_norms_in_weight_dtype


def _tiny_roberta(lora_dropout: float = 0.0, **lora_kwargs):
    from transformers import RobertaConfig, RobertaModel

    torch.manual_seed(0)
    config = RobertaConfig(vocab_size=300, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                           intermediate_size=64, max_position_embeddings=64, hidden_dropout_prob=0.0,
                           attention_probs_dropout_prob=0.0)  # fmt: skip
    model = RobertaModel(config, add_pooling_layer=False)
    lora = LoraConfig(r=4, lora_alpha=8, lora_dropout=lora_dropout, target_modules=["query", "value"],
                      **lora_kwargs)  # fmt: skip
    model = get_peft_model(model, lora)
    for name, param in model.named_parameters():  # non-zero B, so the LoRA term is really there
        if "lora_B" in name:
            torch.nn.init.normal_(param, std=0.5)
    return model


def _loss_and_grads(model, ids, seed=7):
    target = torch.randn(*ids.shape, 32, generator=torch.Generator().manual_seed(seed))
    torch.manual_seed(seed)
    out = model(input_ids=ids).last_hidden_state
    # a loss with real gradients (the final LayerNorm makes sums of squares nearly constant)
    loss = (out.float() * target).sum()
    model.zero_grad(set_to_none=True)
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}
    return out.detach(), grads


@pytest.mark.parametrize("lora_dropout", [0.0, 0.3])
def test_fused_lora_matches_peft_outputs_and_gradients(lora_dropout):
    ids = torch.randint(3, 300, (3, 11))
    reference = _tiny_roberta(lora_dropout)
    fused = _tiny_roberta(lora_dropout)
    fused.load_state_dict(reference.state_dict())
    assert use_fused_lora(fused) == 4  # query and value of 2 layers
    attention = fused.base_model.model.encoder.layer[0].attention.self
    # query leads a group that computes key and value too (one autograd node for the three)
    assert [type(m).__name__ for m in (attention.query, attention.key, attention.value)] == [
        "FusedLeadFusedLoraLinear",
        "FusedFollowLinear",
        "FusedFollowFusedLoraLinear",
    ]
    for model in (reference, fused):
        model.train()
    out_ref, grads_ref = _loss_and_grads(reference, ids)
    out_fused, grads_fused = _loss_and_grads(fused, ids)
    torch.testing.assert_close(out_fused, out_ref, rtol=1e-5, atol=1e-6)
    assert grads_fused.keys() == grads_ref.keys() and len(grads_ref) == 8
    for name in grads_ref:
        torch.testing.assert_close(grads_fused[name], grads_ref[name], rtol=1e-5, atol=1e-6, msg=name)
    # the saved adapter is unchanged by the class switch
    assert fused.state_dict().keys() == reference.state_dict().keys()
    assert all(m.__dict__.get("_fused_output") is None for m in fused.modules())  # nothing left behind


def test_fused_lora_falls_back_where_peft_must_run():
    ids = torch.randint(3, 300, (2, 7))
    model = _tiny_roberta()
    use_fused_lora(model)
    with torch.no_grad():
        with_adapter = model(input_ids=ids).last_hidden_state
        with model.disable_adapter():  # base only: the fused layer must skip the LoRA term
            base_only = model(input_ids=ids).last_hidden_state
        reference = _tiny_roberta()
        with reference.disable_adapter():
            expected_base = reference(input_ids=ids).last_hidden_state
    torch.testing.assert_close(base_only, expected_base)
    assert not torch.allclose(with_adapter, base_only)


def test_dora_layers_keep_peft_forward():
    model = _tiny_roberta(use_dora=True)
    assert use_fused_lora(model) == 0


def test_fused_lora_under_bf16_autocast_is_close_to_peft():
    ids = torch.randint(3, 300, (2, 9))
    reference = _tiny_roberta()
    fused = _tiny_roberta()
    fused.load_state_dict(reference.state_dict())
    use_fused_lora(fused)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out_ref, grads_ref = _loss_and_grads(reference, ids)
        out_fused, grads_fused = _loss_and_grads(fused, ids)
    assert out_fused.dtype == out_ref.dtype
    torch.testing.assert_close(out_fused.float(), out_ref.float(), rtol=0.05, atol=0.05)
    for name, grad in grads_ref.items():
        assert grads_fused[name].dtype == torch.float32  # LoRA weights and their gradients stay fp32
        cos = torch.nn.functional.cosine_similarity(grads_fused[name].flatten(), grad.flatten(), dim=0)
        assert cos > 0.99, name


def test_layer_norms_stay_bf16_under_autocast_and_match_the_fp32_kernel():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(16, 16), torch.nn.LayerNorm(16), torch.nn.LayerNorm(16))
    model[2].float()
    model[:2].to(torch.bfloat16)
    assert keep_layer_norms_in_weight_dtype(model) == 1  # the float32 LayerNorm is left alone
    assert isinstance(model[1], WeightDtypeLayerNorm) and type(model[2]) is torch.nn.LayerNorm
    x = torch.randn(4, 16, dtype=torch.bfloat16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        hidden = model[0](x)
        normed = model[1](hidden)
    assert normed.dtype == torch.bfloat16
    expected = torch.nn.functional.layer_norm(hidden.float(), (16,), model[1].weight.float(),
                                              model[1].bias.float(), model[1].eps)  # fmt: skip
    torch.testing.assert_close(normed.float(), expected, rtol=0.02, atol=0.02)
    assert set(model.state_dict()) == {"0.weight", "0.bias", "1.weight", "1.bias", "2.weight", "2.bias"}


@pytest.mark.parametrize("lora_dropout", [0.0, 0.3])
def test_grouped_projections_run_as_one_autograd_node(lora_dropout):
    import loracode_embed.training.fused_lora as fused_lora

    model = _tiny_roberta(lora_dropout)
    use_fused_lora(model)
    calls = []
    original = fused_lora._ProjectionsFunction.apply
    fused_lora._ProjectionsFunction.apply = lambda *a: calls.append(len(a)) or original(*a)
    try:
        model(input_ids=torch.randint(3, 300, (2, 5))).last_hidden_state.sum().backward()
    finally:
        fused_lora._ProjectionsFunction.apply = original
    assert calls == [1 + 3 * 5] * 2  # one call per layer: x, then 5 inputs per projection
    with model.disable_adapter():  # a member that cannot join: each projection runs on its own again
        model(input_ids=torch.randint(3, 300, (2, 5)))


def test_fused_model_pickles_and_keeps_its_outputs():
    import pickle

    model = _tiny_roberta()
    use_fused_lora(model)
    model.eval()
    ids = torch.randint(3, 300, (2, 6))
    with torch.no_grad():
        before = model(input_ids=ids).last_hidden_state
        copy = pickle.loads(pickle.dumps(model))
        after = copy(input_ids=ids).last_hidden_state
    torch.testing.assert_close(after, before)
    assert (
        type(copy.base_model.model.encoder.layer[1].attention.self.query).__name__
        == "FusedLeadFusedLoraLinear"
    )


def _replicate(module: torch.nn.Module) -> torch.nn.Module:
    """A copy of ``module`` made the way ``torch.nn.DataParallel`` makes its replicas: each module a
    shallow copy of its ``__dict__``, every parameter a new tensor (here: the original doubled, as a
    stand-in for the copy on another device)."""
    replica = module._replicate_for_data_parallel()
    for name, param in module._parameters.items():
        doubled = None if param is None else torch.nn.Parameter(param.detach() * 2, param.requires_grad)
        replica._parameters[name] = doubled
    for name, child in module._modules.items():
        replica._modules[name] = _replicate(child) if child is not None else None
    return replica


def test_data_parallel_replicas_use_their_own_weights():
    # DataParallel (one process, several GPUs) runs shallow copies of every module; a query/key/value
    # group must not reach back to the original modules' weights (on GPU 0) from a replica.
    ids = torch.randint(3, 300, (2, 6))
    model = _tiny_roberta()
    use_fused_lora(model)
    replica = _replicate(model)
    reference = _tiny_roberta()
    reference.load_state_dict({k: v * 2 for k, v in model.state_dict().items()})
    with torch.no_grad():
        expected = reference(input_ids=ids).last_hidden_state
        got = replica(input_ids=ids).last_hidden_state
        original = model(input_ids=ids).last_hidden_state
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(original, expected)  # the doubled weights do change the output
