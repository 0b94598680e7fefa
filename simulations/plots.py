"""PNG plots of sweep simulations (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulations.sweep import SweepResult

if TYPE_CHECKING:
    from simulations.enterprises import EnterpriseResult


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Labels carry Chinese terms: use a CJK font when one is installed, and do not warn
    # about missing glyphs when none is (the plot still renders).
    warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
    plt.rcParams["font.sans-serif"] = ["WenQuanYi Micro Hei", "Noto Sans CJK SC",
                                       "WenQuanYi Zen Hei", "SimHei", "DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False
    return plt


def _coverage_axes(ax: Any, title: str) -> None:
    ax.set_xlabel("hours since the sweep started")
    ax.set_ylabel("households covered (%)")
    ax.set_ylim(0, 102)
    ax.set_title(title)


def _save(fig: Any, ax: Any, path: Path) -> Path:
    """Grid lines, then the figure as a PNG at ``path`` (its folder created), closed."""
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)
    return path


def coverage_by_zone(result: SweepResult, path: Path, title: str) -> Path:
    """Coverage (share of households checked) over time, one line per zone and the total."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(10, 5.5))
    colours = plt.get_cmap("tab20").colors
    for i, (code, curve) in enumerate(result.curve.items()):
        n = result.zones[code].households or 1
        ax.plot(range(len(curve)), [100 * c / n for c in curve], linewidth=1, alpha=0.8,
                color=colours[i % len(colours)], label=code.rsplit("-", 1)[-1])
    total = result.total_curve
    ax.plot(range(len(total)), [100 * c / max(1, result.households) for c in total],
            color="black", linewidth=2.5, label="total")
    ax.axvline(result.window_hours, color="red", linestyle="--", label="window end")
    _coverage_axes(ax, title)
    ax.legend(ncol=2, fontsize=7, loc="lower right")
    return _save(fig, ax, path)


def compare_variants(results: dict[str, SweepResult], path: Path, title: str) -> Path:
    """Total coverage over time of each staffing variant, on one plot."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(10, 5.5))
    window = 0
    for name, r in results.items():
        total = r.total_curve
        ax.plot(range(len(total)), [100 * c / max(1, r.households) for c in total],
                linewidth=2, label=name)
        window = r.window_hours
    ax.axvline(window, color="red", linestyle="--", label="window end")
    _coverage_axes(ax, title)
    ax.legend(fontsize=8, loc="lower right")
    return _save(fig, ax, path)


def inspections_by_round(result: EnterpriseResult, path: Path, title: str) -> Path:
    """Cumulative enterprises inspected in each round (巡查轮次) over the days since the first."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(10, 5.5))
    for r in result.rounds:
        days = [r.start_day + i + 1 for i in range(len(r.curve))]
        ax.step([r.start_day, *days], [0, *r.curve], where="post", linewidth=2,
                label=f"第{r.round_no}轮 round {r.round_no} ({r.due} due, {r.days} days)")
        ax.hlines(r.due, r.start_day, r.start_day + r.days, colors="grey", linestyles=":")
    ax.set_xlabel("days since the first round started")
    ax.set_ylabel("enterprises inspected (cumulative, per round)")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper left")
    return _save(fig, ax, path)


def compare_inspections(results: dict[str, EnterpriseResult], path: Path, title: str) -> Path:
    """Inspections over all rounds (cumulative) of each staffing variant, on one plot."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(10, 5.5))
    for name, res in results.items():
        xs, ys, done = [0], [0], 0
        for r in res.rounds:
            for i, c in enumerate(r.curve):
                xs.append(r.start_day + i + 1)
                ys.append(done + c)
            done += r.inspected
        line = ax.step(xs, ys, where="post", linewidth=2, label=name)[0]
        for r in res.rounds:
            ax.axvline(r.end_day + 1, color=line.get_color(), linestyle=":", alpha=0.5)
    ax.set_xlabel("days since the first round started (dotted: a round ends)")
    ax.set_ylabel("inspections, all rounds (cumulative)")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper left")
    return _save(fig, ax, path)
