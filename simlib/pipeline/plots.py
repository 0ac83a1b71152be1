"""Report figures (matplotlib). Each function takes plain data and writes PNG and PDF.

Figures carry labelled axes with units in reduced LJ units, and error bars wherever
the data have an error. Titles and legends are built by :mod:`.figures` from the
numbers in the files. PDF metadata carry no creation date, so reruns write
identical files.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.collections import EllipseCollection  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.ticker import FixedLocator, FormatStrFormatter, NullLocator  # noqa: E402

from ..io import atomic_path  # noqa: E402

STYLE = {"figure.dpi": 110, "savefig.dpi": 150, "font.size": 10, "axes.grid": False}
# one colour per temperature (or series), the same in every panel of a figure
COLOURS = plt.get_cmap("tab10").colors


def save(fig, path):
    """Save ``fig`` as ``path`` (PNG) and the same name with ``.pdf``, atomically."""
    path = Path(path)
    for target in (path, path.with_suffix(".pdf")):
        fmt = target.suffix.lstrip(".")
        with atomic_path(target) as tmp:
            metadata = {"CreationDate": None} if fmt == "pdf" else {"Software": None}
            fig.savefig(tmp, format=fmt, bbox_inches="tight", metadata=metadata)
    plt.close(fig)


def periodic_images(positions, diameters, box):
    """Positions and diameters of the disks plus every periodic image that overlaps the box.

    A disk within its radius of an edge (or corner) is repeated on the other side, so a
    drawing clipped to the box shows every disk whole or continued across the edge.
    """
    positions = np.asarray(positions)[:, :2] % np.asarray(box[:2])
    diameters = np.asarray(diameters)
    radius = 0.5 * diameters
    out_pos, out_d = [positions], [diameters]
    for sx in (-1, 0, 1):
        for sy in (-1, 0, 1):
            if sx == 0 and sy == 0:
                continue
            shifted = positions + np.array([sx * box[0], sy * box[1]])
            near = ((shifted[:, 0] + radius > 0) & (shifted[:, 0] - radius < box[0])
                    & (shifted[:, 1] + radius > 0) & (shifted[:, 1] - radius < box[1]))
            out_pos.append(shifted[near])
            out_d.append(diameters[near])
    return np.concatenate(out_pos), np.concatenate(out_d)


def _scale_bar_length(side):
    """A round length of about a fifth of the box side."""
    target = side / 5.0
    magnitude = 10 ** np.floor(np.log10(target))
    for step in (5, 2, 1):
        if step * magnitude <= target:
            return step * magnitude
    return magnitude


def draw_disks(ax, positions, diameters, box, vmin=None, vmax=None, cmap="viridis"):
    """Disks drawn to scale in data units, periodic images included, coloured by diameter,
    with the box outline and a scale bar. Returns the collection."""
    box = np.asarray(box, dtype=float)
    pos, diam = periodic_images(positions, diameters, box)
    collection = EllipseCollection(
        diam, diam, np.zeros_like(diam), units="xy", offsets=pos,
        offset_transform=ax.transData, cmap=cmap, edgecolors="none",
    )
    collection.set_array(np.asarray(diam))
    lo = float(np.min(diameters)) if vmin is None else vmin
    hi = float(np.max(diameters)) if vmax is None else vmax
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    collection.set_clim(lo, hi)
    ax.add_collection(collection)
    outline = Rectangle((0, 0), box[0], box[1], fill=False, lw=0.8, color="k")
    ax.add_patch(outline)
    collection.set_clip_path(outline)
    bar = _scale_bar_length(box[0])
    ax.plot([0, bar], [-0.05 * box[1]] * 2, color="k", lw=2.5, clip_on=False, solid_capstyle="butt")
    ax.text(0.5 * bar, -0.065 * box[1], f"{bar:g} $a$", ha="center", va="top", fontsize=8)
    ax.set_xlim(0, box[0])
    ax.set_ylim(0, box[1])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    return collection


def snapshots(panels, path, suptitle):
    """Side-by-side snapshots. ``panels``: list of dicts with positions, diameters, box, title."""
    with plt.rc_context(STYLE):
        n = len(panels)
        fig, axes = plt.subplots(1, n, figsize=(3.2 * n + 0.6, 3.9), squeeze=False)
        lo = min(float(np.min(p["diameters"])) for p in panels)
        hi = max(float(np.max(p["diameters"])) for p in panels)
        collection = None
        for ax, panel in zip(axes[0], panels):
            collection = draw_disks(ax, panel["positions"], panel["diameters"], panel["box"], lo, hi)
            ax.set_title(panel["title"], fontsize=9)
        if hi - lo > 1e-9:
            fig.colorbar(collection, ax=axes[0].tolist(), label="diameter $a_i$ [$a$]", shrink=0.8)
        fig.suptitle(suptitle, fontsize=10)
        save(fig, path)


def energy_conservation(time, kinetic, potential, total, path, title):
    """K/N, U/N and E/N against time, with E/N on its own zoomed axis below."""
    with plt.rc_context(STYLE):
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(6.4, 5.6), sharex=True, height_ratios=[2, 1])
        top.plot(time, kinetic, label="$K/N$")
        top.plot(time, potential, label="$U/N$")
        top.plot(time, total, label="$(K+U)/N$", color="k")
        top.set_ylabel(r"energy per particle [$\epsilon$]")
        top.legend(loc="center right")
        top.set_title(title, fontsize=9)
        bottom.plot(time, np.asarray(total) - total[0], color="k")
        bottom.set_ylabel(r"$E/N - E_0/N$ [$\epsilon$]")
        bottom.set_xlabel(r"time $t$ [$t_0$]")
        bottom.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
        save(fig, path)


def _dt_ticks(ax, dt):
    """Tick labels at the time steps themselves (a log axis' own labels collide)."""
    ax.xaxis.set_major_locator(FixedLocator(np.unique(dt)))
    ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.xaxis.set_minor_locator(NullLocator())


def energy_drift(table, path, title):
    """Two panels against dt: the drift d(E/N)/dt with its error bar on a linear axis (it
    may be consistent with zero), and the RMS fluctuation of E/N (log-log, dt^2 guide)."""
    with plt.rc_context(STYLE):
        fig, (left, right) = plt.subplots(1, 2, figsize=(10.5, 4.4), layout="constrained")
        dt = table["dt"].to_numpy()
        left.errorbar(dt, table["drift"].to_numpy(), yerr=table["drift_err"].to_numpy(), fmt="s", capsize=3,
                      color=COLOURS[0], label="drift $\\pm$ standard error")
        left.axhline(0.0, color="grey", lw=0.8)
        left.set_xscale("log")
        _dt_ticks(left, dt)
        left.set_xlabel(r"time step $dt$ [$t_0$]")
        left.set_ylabel(r"drift $d(E/N)/dt$ [$\epsilon/t_0$]")
        left.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
        left.set_title("(a) energy drift (zero line: no drift)", fontsize=9)
        left.legend(fontsize=8)
        rms = table["rms_total"].to_numpy()
        right.plot(dt, rms, "o", color=COLOURS[1], label=r"RMS fluctuation of $E/N$")
        guide = rms[np.argmin(dt)] * (dt / dt.min()) ** 2
        right.plot(dt, guide, "k--", lw=1, label=r"$\propto dt^2$ (through the smallest $dt$)")
        right.set_xscale("log")
        right.set_yscale("log")
        _dt_ticks(right, dt)
        right.set_xlabel(r"time step $dt$ [$t_0$]")
        right.set_ylabel(r"RMS of $E/N$ [$\epsilon$]")
        right.set_title("(b) energy fluctuation", fontsize=9)
        right.legend(fontsize=8)
        fig.suptitle(title, fontsize=10)
        save(fig, path)


def acceptance(table, path, title):
    """Acceptance rate against move size, one curve per temperature, binomial error bars."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(5.6, 4.2))
        for i, (kT, group) in enumerate(table.groupby("kT")):
            group = group.sort_values("dr")
            ax.errorbar(group["dr"], group["acceptance"], yerr=group["acceptance_err"], fmt="o-", capsize=3,
                        color=COLOURS[i % len(COLOURS)], label=f"$T^*={kT:g}$")
        ax.set_xscale("log")
        _dt_ticks(ax, table["dr"].to_numpy())
        ax.set_xlabel(r"move size $\Delta r$ [$a$]")
        ax.set_ylabel("acceptance rate")
        ax.set_ylim(0, 1.02)
        ax.set_title(title, fontsize=9)
        ax.legend()
        save(fig, path)


def _positive(t, *arrays):
    keep = t > 0
    return (t[keep],) + tuple(None if a is None else np.asarray(a)[keep] for a in arrays)


def _errorbar_curve(ax, x, y, err, colour, label, marker=None, linestyle="-", points=25, offset=0):
    """A curve with error bars on about ``points`` of its points (all, if fewer); ``offset``
    (0..1) staggers the bars of curves that lie on top of each other."""
    every = max(1, len(x) // points)
    if err is None or not np.any(np.isfinite(err)):
        return ax.plot(x, y, color=colour, ls=linestyle, marker=marker, ms=3, label=label)
    return ax.errorbar(x, y, yerr=err, color=colour, ls=linestyle, marker=marker, ms=3, capsize=2, lw=1.2,
                       elinewidth=0.8, errorevery=(int(offset * every) % every, every), label=label,
                       markevery=(int(offset * every) % every, every) if marker else None)


def msd(curves, path, title):
    """MSD against lag time (log-log) with error bars and ballistic and diffusive guides.

    ``curves``: list of (label, lag_time, msd, msd_err or None).
    """
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6.0, 5.2), layout="constrained")
        for i, (label, t, m, err) in enumerate(curves):
            t, m, err = _positive(np.asarray(t), m, err)
            _errorbar_curve(ax, t, m, err, COLOURS[i % len(COLOURS)], label)
        t_all = np.concatenate([c[1][c[1] > 0] for c in curves])
        t_lo, t_hi = t_all.min(), t_all.max()
        m_ref = curves[0][2][curves[0][1] > 0]
        ax.plot([t_lo, t_lo * 10], [m_ref[0], m_ref[0] * 100], ":", color="grey", label=r"$\propto t^2$")
        ax.plot([t_hi / 10, t_hi], [m_ref[-1] / 10, m_ref[-1]], "-.", color="grey", label=r"$\propto t$")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(r"lag time $t$ [$t_0$]")
        ax.set_ylabel(r"MSD $\langle \Delta r^2 \rangle$ [$a^2$]")
        ax.set_title(title, fontsize=9)
        fig.legend(loc="outside lower center", ncols=2, fontsize=7)  # off the curves
        save(fig, path)


def free_particle(curves, exact, path, title, difference=None):
    """Simulated MSDs against the exact one, and below their relative deviation from it.

    ``curves``: list of (label, lag_time, msd, msd_err); ``exact``: (lag_time, msd, label)
    on the same lag times. The lower panel separates schemes that coincide on a log axis;
    ``difference`` (label, lag_time, relative difference, error) adds the paired
    difference of two schemes run with the same random numbers, whose error is far
    smaller than either scheme's own.
    """
    markers = ("o", "s", "^", "D")
    with plt.rc_context(STYLE):
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(6.0, 6.0), sharex=True, height_ratios=[3, 2])
        t_ex, m_ex, ex_label = exact
        t_ex, m_ex = _positive(np.asarray(t_ex), m_ex)
        top.plot(t_ex, m_ex, "k-", lw=1, label=ex_label, zorder=3)
        bottom.axhline(0.0, color="k", lw=1)
        for i, (label, t, m, err) in enumerate(curves):
            t, m, err = _positive(np.asarray(t), m, err)
            colour = COLOURS[i % len(COLOURS)]
            marker = markers[i % len(markers)]
            offset = i / max(1, len(curves))
            _errorbar_curve(top, t, m, err, colour, label, marker=marker, linestyle="none", points=12, offset=offset)
            ref = np.interp(t, t_ex, m_ex)
            rel_err = None if err is None else err / ref
            _errorbar_curve(bottom, t, m / ref - 1.0, rel_err, colour, label, marker=marker, linestyle="-",
                            points=12, offset=offset)
        if difference is not None:
            label, t, diff, err = difference
            t, diff, err = _positive(np.asarray(t), diff, err)
            _errorbar_curve(bottom, t, diff, err, "k", label, linestyle="--", points=12, offset=0.5)
            bottom.legend(fontsize=7, loc="lower left")
        top.set_xscale("log")
        top.set_yscale("log")
        top.set_ylabel(r"MSD $\langle \Delta r^2 \rangle$ [$a^2$]")
        top.set_title(title, fontsize=9)
        top.legend(fontsize=8)
        bottom.set_xlabel(r"lag time $t$ [$t_0$]")
        bottom.set_ylabel("MSD / exact $- 1$")
        save(fig, path)


def diffusion_vs_temperature(table, path, title):
    """D(T) with error bars, one series per system/method."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(5.6, 4.2))
        for i, (label, group) in enumerate(table.groupby("series", sort=False)):
            group = group.sort_values("kT")
            ax.errorbar(group["kT"], group["D"], yerr=group["D_err"], fmt="o-", capsize=3,
                        color=COLOURS[i % len(COLOURS)], label=label)
        ax.set_xlabel(r"bath temperature $T^*$ [$\epsilon/k_B$]")
        ax.set_ylabel(r"diffusion coefficient $D$ [$a^2/t_0$]")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=8)
        save(fig, path)


def structure(curves, path, title):
    """g(r) and S(k) side by side with error bars.

    ``curves``: list of dicts with ``label``, ``colour`` (index), ``linestyle``, ``marker``,
    ``r``, ``g``, ``g_err``, ``k``, ``S``, ``S_err``. Curves with the same colour index
    belong together (e.g. the same temperature by two methods).
    """
    with plt.rc_context(STYLE):
        fig, (left, right) = plt.subplots(1, 2, figsize=(10.5, 4.8), layout="constrained")
        for c in curves:
            colour = COLOURS[c["colour"] % len(COLOURS)]
            _errorbar_curve(left, c["r"], c["g"], c["g_err"], colour, c["label"], linestyle=c["linestyle"],
                            points=40)
            s_err = np.minimum(c["S_err"], 0.999 * c["S"])  # a log axis cannot show a bar through zero
            right.errorbar(c["k"], c["S"], yerr=[s_err, c["S_err"]], color=colour, ls=c["linestyle"],
                           marker=c["marker"], ms=3, capsize=2, lw=1.0, elinewidth=0.8, label=c["label"])
        left.axhline(1.0, color="grey", lw=0.8)
        left.set_xlabel(r"$r$ [$a$]")
        left.set_ylabel(r"$g(r)$")
        left.set_title("(a) radial distribution function", fontsize=9)
        right.axhline(1.0, color="grey", lw=0.8)
        right.set_xlabel(r"$k$ [$1/a$]")
        right.set_ylabel(r"$S(k)$")
        right.set_yscale("log")
        right.set_title("(b) static structure factor", fontsize=9)
        handles, labels = left.get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=min(2, len(labels)), fontsize=8)
        fig.suptitle(title, fontsize=10)
        save(fig, path)
