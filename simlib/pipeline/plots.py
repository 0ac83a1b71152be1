"""Report figures (matplotlib). Each function takes plain data and writes PNG and PDF.

Figures carry labelled axes with units in reduced LJ units. PDF metadata carry no
creation date, so reruns write identical files.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.collections import EllipseCollection  # noqa: E402

from ..io import atomic_path  # noqa: E402

STYLE = {"figure.dpi": 110, "savefig.dpi": 150, "font.size": 10, "axes.grid": False}


def save(fig, path):
    """Save ``fig`` as ``path`` (PNG) and the same name with ``.pdf``, atomically."""
    path = Path(path)
    for target in (path, path.with_suffix(".pdf")):
        fmt = target.suffix.lstrip(".")
        with atomic_path(target) as tmp:
            metadata = {"CreationDate": None} if fmt == "pdf" else {"Software": None}
            fig.savefig(tmp, format=fmt, bbox_inches="tight", metadata=metadata)
    plt.close(fig)


def draw_disks(ax, positions, diameters, box, vmin=None, vmax=None, cmap="viridis"):
    """Disks drawn to scale in data units, coloured by diameter. Returns the collection."""
    positions = np.asarray(positions)[:, :2]
    collection = EllipseCollection(
        diameters, diameters, np.zeros_like(diameters), units="xy", offsets=positions,
        offset_transform=ax.transData, cmap=cmap, edgecolors="none",
    )
    collection.set_array(np.asarray(diameters))
    lo = float(np.min(diameters)) if vmin is None else vmin
    hi = float(np.max(diameters)) if vmax is None else vmax
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    collection.set_clim(lo, hi)
    ax.add_collection(collection)
    ax.set_xlim(0, box[0])
    ax.set_ylim(0, box[1])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    return collection


def snapshots(panels, path, suptitle):
    """Side-by-side snapshots. ``panels``: list of dicts with positions, diameters, box, title."""
    with plt.rc_context(STYLE):
        n = len(panels)
        fig, axes = plt.subplots(1, n, figsize=(3.2 * n + 0.6, 3.6), squeeze=False)
        lo = min(float(np.min(p["diameters"])) for p in panels)
        hi = max(float(np.max(p["diameters"])) for p in panels)
        collection = None
        for ax, panel in zip(axes[0], panels):
            collection = draw_disks(ax, panel["positions"], panel["diameters"], panel["box"], lo, hi)
            ax.set_title(panel["title"])
        if hi - lo > 1e-9:
            fig.colorbar(collection, ax=axes[0].tolist(), label="diameter $a_i$ [$a$]", shrink=0.8)
        fig.suptitle(suptitle)
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
        top.set_title(title)
        bottom.plot(time, np.asarray(total) - total[0], color="k")
        bottom.set_ylabel(r"$E/N - E_0/N$ [$\epsilon$]")
        bottom.set_xlabel(r"time $t$ [$t_0$]")
        bottom.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
        save(fig, path)


def energy_drift(table, path):
    """Drift |dE/dt| per particle and RMS fluctuation of E/N against dt (log-log, dt^2 guide)."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(5.6, 4.2))
        dt = table["dt"].to_numpy()
        rms = table["rms_total"].to_numpy()
        drift = np.abs(table["drift"].to_numpy())
        ax.errorbar(dt, drift, yerr=table["drift_err"].to_numpy(), fmt="s", label=r"$|$drift$|$ of $E/N$ [$\epsilon/t_0$]")
        ax.plot(dt, rms, "o", label=r"RMS fluctuation of $E/N$ [$\epsilon$]")
        guide = rms[np.argmin(dt)] * (dt / dt.min()) ** 2
        ax.plot(dt, guide, "k--", lw=1, label=r"$\propto dt^2$")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(r"time step $dt$ [$t_0$]")
        ax.set_ylabel("energy error")
        ax.set_title("Velocity Verlet: energy error against time step")
        ax.legend(fontsize=8)
        save(fig, path)


def acceptance(table, path):
    """Acceptance rate against move size, one curve per temperature, binomial error bars."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(5.6, 4.2))
        for kT, group in table.groupby("kT"):
            group = group.sort_values("dr")
            ax.errorbar(group["dr"], group["acceptance"], yerr=group["acceptance_err"], fmt="o-", label=f"$T^*={kT:g}$")
        ax.set_xscale("log")
        ax.set_xlabel(r"move size $\Delta r$ [$a$]")
        ax.set_ylabel("acceptance rate")
        ax.set_ylim(0, 1.02)
        ax.set_title("Metropolis acceptance against move size")
        ax.legend()
        save(fig, path)


def msd(curves, path, title, exact=None):
    """MSD against lag time (log-log) with ballistic and diffusive guides.

    ``curves``: list of (label, lag_time, msd); ``exact``: optional (lag_time, msd, label).
    """
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(5.6, 4.2))
        for label, t, m in curves:
            keep = t > 0
            ax.plot(t[keep], m[keep], label=label)
        if exact is not None:
            t, m, label = exact
            keep = t > 0
            ax.plot(t[keep], m[keep], "k--", lw=1, label=label)
        t_all = np.concatenate([c[1][c[1] > 0] for c in curves])
        t_lo, t_hi = t_all.min(), t_all.max()
        m_ref = curves[0][2][curves[0][1] > 0]
        ax.plot([t_lo, t_lo * 10], [m_ref[0], m_ref[0] * 100], ":", color="grey", label=r"$\propto t^2$")
        ax.plot([t_hi / 10, t_hi], [m_ref[-1] / 10, m_ref[-1]], "-.", color="grey", label=r"$\propto t$")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(r"lag time $t$ [$t_0$]")
        ax.set_ylabel(r"MSD $\langle \Delta r^2 \rangle$ [$a^2$]")
        ax.set_title(title)
        ax.legend(fontsize=8)
        save(fig, path)


def diffusion_vs_temperature(table, path):
    """D(T) with error bars, one series per system/method."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(5.6, 4.2))
        for label, group in table.groupby("series"):
            group = group.sort_values("kT")
            ax.errorbar(group["kT"], group["D"], yerr=group["D_err"], fmt="o-", label=label)
        ax.set_xlabel(r"temperature $T^*$ [$\epsilon/k_B$]")
        ax.set_ylabel(r"diffusion coefficient $D$ [$a^2/t_0$]")
        ax.set_title("Diffusion coefficient from the MSD")
        ax.legend(fontsize=8)
        save(fig, path)


def structure(curves, path, title):
    """g(r) and S(k) side by side. ``curves``: list of (label, r, g, k, s)."""
    with plt.rc_context(STYLE):
        fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
        for label, r, g, k, s in curves:
            left.plot(r, g, label=label)
            right.plot(k, s, label=label)
        left.axhline(1.0, color="grey", lw=0.8)
        left.set_xlabel(r"$r$ [$a$]")
        left.set_ylabel(r"$g(r)$")
        right.axhline(1.0, color="grey", lw=0.8)
        right.set_xlabel(r"$k$ [$1/a$]")
        right.set_ylabel(r"$S(k)$")
        right.set_yscale("log")
        left.legend(fontsize=8)
        fig.suptitle(title)
        save(fig, path)
