"""Bar chart (SVG, no plotting library needed) of an ``encode_throughput.py`` JSON result.

One panel per model shape, one bar per path over 256-token chunks (chunks/s). A dashed line marks 60 %
of the device's measured dense bf16 rate in model FLOPs, the inference-speed issue's GPU target:

    python benchmarks/plot_encode_throughput.py benchmarks/results/encode_throughput_h100.json \\
        docs/images/encode_throughput_h100.svg
"""

from __future__ import annotations

import argparse
import json
from html import escape
from pathlib import Path

from encode_throughput import flops_per_token

BAR_H, GAP, LABEL_W, PLOT_W, TOP = 18, 6, 400, 420, 30
SHORTER = [
    ("LoRACodeModel default dtype, ", "LoRACodeModel, "),
    (" (batches padded beforehand)", ", pre-padded"),
    ("sentence-transformers", "ST"),
    ("tokenize + pad chunks, ", "tokenize + pad, "),
    (", chunks", ""),
    (" chunks", ""),
]


def label(path: str) -> str:
    """The row's path, shortened to fit beside its bar."""
    for long, short in SHORTER:
        path = path.replace(long, short)
    return path


def svg(result: dict) -> str:
    rows = [r for r in result["rows"] if r.get("seq_tokens") == 256 and "items_per_s" in r]
    shapes = list(dict.fromkeys(r["shape"] for r in rows))
    dense = result["info"].get("dense_bf16_matmul_tflops")
    targets = {s: 0.6 * dense * 1e12 / (256 * flops_per_token(s, 256)) for s in shapes} if dense else {}
    parts, y = [], TOP
    for shape in shapes:
        mine = [r for r in rows if r["shape"] == shape]
        top = max([r["items_per_s"] for r in mine] + [targets.get(shape, 0)]) * 1.05
        parts.append(
            f'<text x="4" y="{y - 8}" font-weight="bold">{escape(shape)} (chunks/s, 256 tokens)</text>'
        )
        panel_top = y
        for r in mine:
            width = PLOT_W * r["items_per_s"] / top
            parts.append(
                f'<text x="{LABEL_W - 6}" y="{y + 13}" text-anchor="end">{escape(label(r["path"]))}</text>'
            )
            parts.append(f'<rect x="{LABEL_W}" y="{y}" width="{width:.1f}" height="{BAR_H}" fill="#4878a8"/>')
            parts.append(f'<text x="{LABEL_W + width + 4:.1f}" y="{y + 13}">{r["items_per_s"]:,.0f}</text>')
            y += BAR_H + GAP
        if shape in targets:
            x = LABEL_W + PLOT_W * targets[shape] / top
            parts.append(
                f'<line x1="{x:.1f}" y1="{panel_top - 4}" x2="{x:.1f}" y2="{y}" stroke="#c03030" '
                f'stroke-dasharray="5,3"/><text x="{x + 3:.1f}" y="{y + 12}" fill="#c03030">60 % of '
                f"dense bf16 ({targets[shape]:,.0f}/s)</text>"
            )
        y += 2 * TOP
    width = LABEL_W + PLOT_W + 90
    title = escape(f"{result['info'].get('gpu', '')}, {result['info'].get('torch', '')}")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y}" font-family="sans-serif" '
        f'font-size="12"><rect width="100%" height="100%" fill="white"/>'
        f'<text x="{width - 4}" y="14" text-anchor="end" fill="#666">{title}</text>{"".join(parts)}</svg>\n'
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("result", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(svg(json.loads(args.result.read_text())))


if __name__ == "__main__":
    main()
