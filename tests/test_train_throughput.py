"""The training-throughput benchmark script runs end to end (tiny model, 2 steps, CPU) and counts FLOPs right."""

from __future__ import annotations

import json

from conftest import load_script


def test_tiny_run_writes_a_result(tmp_path):
    bench = load_script("benchmarks/train_throughput.py")
    result = bench.main(["--tiny", "--steps", "2", "--device", "cpu", "--out", str(tmp_path)])
    written = json.loads((tmp_path / "train_throughput-tiny-fast-1gpu.json").read_text())
    assert written == result
    assert result["steps"] == 2 and result["devices"] == 1 and result["pairs_per_s_per_gpu"] > 0
    assert 0 < result["params_trainable"] < result["params_total"]
    # LoRA r=4 on query and value of 2 layers of width 32: 2 layers x 2 modules x 4 x (32 + 32)
    assert result["params_trainable"] == 2 * 2 * 4 * 64


def test_flop_count_of_the_unixcoder_shape():
    bench = load_script("benchmarks/train_throughput.py")
    args = bench.parse_args(["--shape", "unixcoder"])
    n_linear = 12 * (4 * 768 * 768 + 2 * 768 * 3072)  # 84.9M frozen Linear weights
    flops = bench.model_flops_per_pair(args)
    dense = 4 * n_linear * (64 + 256)  # forward + activation backward through the frozen weights
    assert dense < flops < 1.2 * dense  # attention and LoRA add a few percent at these lengths
