"""Draw docs/gpu_vs_cupy.svg from the tables of docs/gpu_benchmarks.md: one bar per row
of a table with a "CuPy/ours" column (CuPy's time over ours, log scale; right of 1,
mlx_sparse is faster). Plain SVG, no plotting library.

    python benchmarks/plot_gpu.py [--doc docs/gpu_benchmarks.md] [--out docs/gpu_vs_cupy.svg]
"""
import argparse
import math
import re
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]


SHORT = {"Default kernels": "SpMV/SpMM", "Structural operations": "ops"}  # section labels


def _number(cell):
    try:
        return float(cell.replace(",", "").rstrip("x"))
    except ValueError:
        return None


def ratios(text):
    """[(label, CuPy/ours)] in the order of the tables' rows."""
    out, section, col = [], "", None
    for line in text.splitlines():
        if line.startswith("## "):
            section, col = line[3:].strip(), None
            continue
        if not line.startswith("|"):
            col = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if "CuPy/ours" in cells:
            col = cells.index("CuPy/ours")
            continue
        if col is None or set(line) <= set("|-: "):
            continue
        value = _number(cells[col])
        words = [re.sub(r"[`*]", "", c) for c in cells[:3] if _number(c) is None][:2]
        if value:
            out.append((f"{SHORT.get(section, section)}: " + ", ".join(words), value))
    return out


def svg(rows, width=900, bar=16, gap=6, left=430):
    lo = min(0.1, min(v for _, v in rows))
    hi = max(10.0, max(v for _, v in rows))
    span = math.log10(hi) - math.log10(lo)
    plot_w = width - left - 20

    def x(v):
        return left + (math.log10(v) - math.log10(lo)) / span * plot_w
    top = 30
    height = top + len(rows) * (bar + gap) + 40
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="sans-serif" font-size="12">',
             f'<text x="{left}" y="18" font-weight="bold">CuPy time / mlx_sparse time '
             f'(log scale; &gt; 1: mlx_sparse faster)</text>']
    for i, (label, v) in enumerate(rows):
        y = top + i * (bar + gap)
        x0, x1 = sorted((x(1.0), x(v)))
        color = "#2a7ab0" if v >= 1 else "#d0603a"
        parts.append(f'<text x="{left - 6}" y="{y + bar - 4}" text-anchor="end">{escape(label)}</text>')
        parts.append(f'<rect x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 1):.1f}" height="{bar}" fill="{color}"/>')
        parts.append(f'<text x="{x(v) + (4 if v >= 1 else -4):.1f}" y="{y + bar - 4}" '
                     f'text-anchor="{"start" if v >= 1 else "end"}">{v:.2f}</text>')
    axis_y = top + len(rows) * (bar + gap) + 4
    for t in (0.1, 0.25, 0.5, 1, 2, 4, 10):
        if lo <= t <= hi:
            parts.append(f'<line x1="{x(t):.1f}" y1="{top - 4}" x2="{x(t):.1f}" y2="{axis_y}" '
                         f'stroke="{"#000" if t == 1 else "#ccc"}" stroke-width="1"/>')
            parts.append(f'<text x="{x(t):.1f}" y="{axis_y + 14}" text-anchor="middle">{t:g}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--doc", default=str(ROOT / "docs" / "gpu_benchmarks.md"))
    ap.add_argument("--out", default=str(ROOT / "docs" / "gpu_vs_cupy.svg"))
    args = ap.parse_args()
    rows = ratios(Path(args.doc).read_text())
    Path(args.out).write_text(svg(rows))
    print(f"{args.out}: {len(rows)} bars")


if __name__ == "__main__":
    main()
