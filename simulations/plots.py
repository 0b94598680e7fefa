"""PNG plots of sweep simulations (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulations.sweep import SweepResult

if TYPE_CHECKING:
    from simulations.enterprises import EnterpriseResult
    from simulations.testing import TestingResult


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


def compare_testing(results: list[TestingResult], path: Path, title: str) -> Path:
    """Mass-testing variants side by side (全员核酸检测): residents sampled and tubes out of
    the lab over the days, lab tubes (first round and single-tube retests), and the hours from
    a positive's swab to their isolation."""
    from itertools import accumulate

    plt = _pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    (sampled, lab), (tubes, isolate) = axes
    names = [r.variant.name for r in results]
    for r in results:
        style = "--" if r.variant.policy.pool_size == 1 else "-"  # single tubes dashed
        sampled.plot(range(1, len(r.sampled_by_day) + 1),
                     [x / 1e6 for x in accumulate(r.sampled_by_day)], linewidth=2,
                     linestyle=style, label=r.variant.name)
        lab.plot(range(1, len(r.cleared_by_day) + 1),
                 [100 * x / max(1, r.residents) for x in accumulate(r.cleared_by_day)],
                 linewidth=2, linestyle=style, label=f"{r.variant.name}: {r.tubes:,} tubes at "
                                    f"{r.lab_per_day:,}/day, {r.lab_days:.1f} days")
    sampled.set_xlabel("day of the campaign 天")
    sampled.set_ylabel("residents sampled 已采样 (millions, cumulative)")
    sampled.set_title("采样进度 sampling")
    lab.set_xlabel("day of the campaign 天")
    lab.set_ylabel("residents with a result 已出结果 (%)")
    lab.set_title("实验室 lab results, first come first served")
    xs = range(len(results))
    first = [r.pooled_tubes / 1e6 for r in results]
    again = [r.retest_tubes / 1e6 for r in results]
    tubes.bar(xs, first, label="混检/首轮 first-round tubes")
    tubes.bar(xs, again, bottom=first, label="单采单检 retest tubes")
    for x, r in zip(xs, results, strict=True):
        tubes.annotate(f"{r.tubes:,}\n(retests {r.retest_tubes:,})", (x, first[x] + again[x]),
                       ha="center", va="bottom", fontsize=8)
    tubes.set_ylim(0, 1.18 * max(f + a for f, a in zip(first, again, strict=True)))
    tubes.set_xticks(list(xs), names, rotation=15, fontsize=8)
    tubes.set_ylabel("lab tubes 检测管数 (millions)")
    tubes.set_title("检测管 lab tubes needed")
    isolate.boxplot([[h / 24 for h in r.isolate_hours] or [0] for r in results],
                    tick_labels=names)
    if all(r.isolate_hours for r in results):
        isolate.set_yscale("log")
    isolate.tick_params(axis="x", labelrotation=15, labelsize=8)
    isolate.set_ylabel("swab to isolation 采样到隔离 (days, log scale when all found some)")
    isolate.set_title("阳性隔离 time to isolate each positive found "
                      f"({', '.join(str(r.found) for r in results)} found)")
    for ax in (sampled, lab, tubes):
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    return _save(fig, isolate, path)
