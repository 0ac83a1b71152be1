"""Report figures as a grader reads them: numbers from the data, error bars, no clutter.

Each figure function of simlib.pipeline.figures is called on the files of small real
runs (N = 64 LJ disks) and the matplotlib figure it would save is inspected:
titles and legends against the numbers in the files, error bars, axis scales, tick
labels that do not overlap, periodic images in snapshots, colours of pairs.
"""

import json
import re
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from matplotlib.collections import EllipseCollection
from matplotlib.container import ErrorbarContainer

from simlib.analysis import langevin_free_msd
from simlib.io import load_thermo
from simlib.pipeline import figures
from simlib.pipeline.postprocess import _mean_err, analyse_run, save_dataset, write_json
from simlib.pipeline.runs import provenance_record, setpoint
from simlib.pipeline.stages import run_stage

REPO = Path(__file__).resolve().parents[1]
LJ = {"kind": "lj", "r_cut": 2.5}
SYSTEM = {"n": 64, "box": 12.0, "dim": 2, "seed": 3}


def _quiet(_):
    pass


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Langevin at T* = 0.4 and 1.0, Monte Carlo at the same T*, NVE from the hot run."""
    root = tmp_path_factory.mktemp("figures")
    out = {}
    settings = {"rdf": {"r_max": 5.0, "bins": 50}, "structure_factor": {"k_max": 8.0, "bins": 40}}
    for kT in (0.4, 1.0):
        for method, stage in (
            ("langevin", {"method": "langevin", "kT": kT, "dt": 0.01, "duration": 2.0, "thermo_every": 0.1,
                          "trajectory_every": 0.1}),
            ("metropolis", {"method": "metropolis", "kT": kT, "sweeps": 60, "thermo_every": 5,
                            "trajectory_every": 5}),
        ):
            run = root / f"{method}{kT}"
            family = "lj" if method == "langevin" else "mc"
            record = provenance_record(f"{method}/T{kT}", setpoint(family, stage, LJ, SYSTEM), {})
            run_stage(stage, LJ, SYSTEM, run / "state.nc", run / "thermo.nc", run / "trajectory.nc", log=_quiet,
                      config=record)
            row, datasets = analyse_run(run / "thermo.nc", run / "trajectory.nc", settings=settings,
                                        expected_run=f"{method}/T{kT}")
            write_json(run / "analysis.json", row)
            for name, ds in datasets.items():
                save_dataset(run / f"{name}.nc", ds)
            out[(method, kT)] = run
    nve = root / "nve"
    nve_stage = {"method": "nve", "dt": 0.005, "duration": 1.0, "thermo_every": 0.02, "trajectory_every": 0.02}
    run_stage(nve_stage, LJ, out[("langevin", 1.0)] / "state.nc", nve / "state.nc", nve / "thermo.nc",
              nve / "trajectory.nc", log=_quiet, config=provenance_record("nve", setpoint("nve", nve_stage, LJ, SYSTEM), {}))
    row, datasets = analyse_run(nve / "thermo.nc", nve / "trajectory.nc", settings=settings, expected_run="nve")
    write_json(nve / "analysis.json", row)
    save_dataset(nve / "dynamics.nc", datasets["dynamics"])
    out["nve"] = nve
    return out


@pytest.fixture
def drawn(monkeypatch):
    """Figures that figures.* would save, kept for inspection instead."""
    saved = []
    monkeypatch.setattr(figures.plots, "save", lambda fig, path: saved.append(fig))
    return saved


def _texts(fig):
    parts = [fig._suptitle.get_text() if fig._suptitle else ""]
    for ax in fig.axes:
        parts.append(ax.get_title())
        legend = ax.get_legend()
        if legend:
            parts += [t.get_text() for t in legend.get_texts()]
    for legend in fig.legends:
        parts += [t.get_text() for t in legend.get_texts()]
    return "\n".join(parts)


def _errorbars(ax):
    return [c for c in ax.containers if isinstance(c, ErrorbarContainer)]


def _overlaps(labels, renderer):
    boxes = [t.get_window_extent(renderer) for t in labels if t.get_text()]
    return any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_phase_mc_panels_say_sweeps_once(files, drawn):
    figures.phase([files[("metropolis", 0.4)] / "trajectory.nc", files[("metropolis", 1.0)] / "trajectory.nc"],
                  "x.png", temperatures=[9.9, 9.9], title="LJ disks, Monte Carlo", time_label="sweeps")
    titles = [ax.get_title() for ax in drawn[0].axes]
    assert titles == ["$T^*=0.4$, 60 sweeps", "$T^*=1$, 60 sweeps"]  # set-points read from the files
    assert "N = 64" in _texts(drawn[0]) and "12" in _texts(drawn[0])


def test_snapshot_draws_periodic_images_and_a_scale_bar(files, drawn):
    path = files[("langevin", 1.0)] / "trajectory.nc"
    figures.phase([path], "x.png", title="LJ disks", stage_time=2.0)
    ax = drawn[0].axes[0]
    disks = [c for c in ax.collections if isinstance(c, EllipseCollection)][0]
    from simlib.io import load_trajectory

    traj = load_trajectory(path)
    pos, box = traj["positions"].values[-1], traj["box"].values[-1]
    radius = traj["diameters"].values / 2
    near_edge = np.sum(np.any((pos < radius[:, None]) | (pos > box - radius[:, None]), axis=1))
    assert near_edge > 0
    assert len(disks.get_offsets()) > 64  # every disk that crosses an edge is drawn again on the other side
    assert any(re.fullmatch(r"\d+(\.\d+)? \$a\$", t.get_text()) for t in ax.texts)  # scale bar label
    assert "N = 64" in _texts(drawn[0]) and r"12$\times$12" in _texts(drawn[0])


def _shows_value(text, value, err):
    """Whether ``text`` shows ``value +- err`` (``err`` None: any error bar), each rounded
    to the decimals the figure printed."""
    for shown, shown_err in re.findall(r"([0-9]+\.?[0-9]*)\$\\pm\$([0-9]+\.?[0-9]*)", text):
        half_digit = 0.5 * 10.0 ** -(len(shown.split(".")[1]) if "." in shown else 0) + 1e-12
        if abs(float(shown) - value) <= half_digit and (err is None or abs(float(shown_err) - err) <= half_digit):
            return True
    return False


def test_energy_title_has_the_measured_temperature(files, drawn):
    figures.energy([files["nve"] / "thermo.nc"], "x.png", dt=0.001)  # a stale option is ignored
    th = load_thermo(files["nve"] / "thermo.nc")
    t, err = _mean_err(th["kinetic_temperature"].values)
    title = drawn[0].axes[0].get_title()
    assert "N = 64" in title and "dt = 0.005" in title
    assert _shows_value(title, t, err)
    assert "0.9" not in title


def _study(tmp_path, rows):
    """A study table (results/study/<family>.csv) of the given state points."""
    path = tmp_path / "study.csv"
    pd.DataFrame([{"n_replicas": 1, **row} for row in rows]).to_csv(path, index=False)
    return [path]


def _drift_rows(tmp_path):
    return _study(tmp_path, [
        {"system": "nve", "dt": dt, "drift": drift, "drift_err": 5e-7, "total_rms": 1e-5 * (dt / 0.001) ** 2,
         "kinetic_temperature": 1.43, "n": 64, "steps": int(round(2 / dt))}
        for dt, drift in ((0.001, 1e-7), (0.002, -3e-7), (0.004, 2e-6))])


def test_drift_is_on_a_linear_axis_with_error_bars_apart_from_the_rms(tmp_path, drawn):
    figures.drift(_drift_rows(tmp_path), "x.png")
    fig = drawn[0]
    drift_ax, rms_ax = fig.axes
    assert drift_ax.get_yscale() == "linear"  # a drift consistent with zero (or negative) must show
    bars = _errorbars(drift_ax)
    assert len(bars) == 1
    assert "t_0" in drift_ax.get_ylabel() and "t_0" not in rms_ax.get_ylabel().replace("RMS", "")
    assert rms_ax.get_yscale() == "log"
    assert "1.43" in _texts(fig) and "N = 64" in _texts(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        assert not _overlaps(ax.get_xticklabels(), renderer)


def test_acceptance_tick_labels_do_not_collide(tmp_path, drawn):
    paths = _study(tmp_path, [
        {"system": "acceptance", "kT": 0.2, "move_size": dr, "acceptance": 0.9 - dr, "acceptance_err": 0.01,
         "n": 64, "steps": 20}
        for dr in (0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.8)])
    figures.acceptance(paths, "x.png")
    fig = drawn[0]
    fig.canvas.draw()
    ax = fig.axes[0]
    labels = [t for t in ax.get_xticklabels() + ax.get_xminorticklabels() if t.get_visible()]
    assert not _overlaps(labels, fig.canvas.get_renderer())
    assert len(_errorbars(ax)) == 1 and "20 sweeps" in ax.get_title()


def test_msd_has_error_bars_and_measured_temperatures(files, drawn):
    paths = [files[("langevin", 0.4)] / "dynamics.nc", files["nve"] / "dynamics.nc"]
    figures.msd(paths, "x.png", labels=["wrong", "wrong"], title="wrong")
    ax = drawn[0].axes[0]
    assert len(_errorbars(ax)) == 2
    nve = xr.open_dataset(files["nve"] / "dynamics.nc")
    legend = _texts(drawn[0])
    assert "wrong" not in legend
    # NVE: the measured T, not the old bath's
    assert _shows_value(legend, nve.attrs["kinetic_temperature"], None)
    assert "0.9" not in legend


def test_structure_pairs_share_a_colour_and_show_errors(files, drawn):
    paths = [files[("langevin", 0.4)] / "structure.nc", files[("langevin", 1.0)] / "structure.nc",
             files[("metropolis", 0.4)] / "structure.nc", files[("metropolis", 1.0)] / "structure.nc"]
    figures.structure(paths, "x.png", labels=["a", "b", "c", "d"], title="MC against Langevin")
    g_ax, s_ax = drawn[0].axes[:2]
    bars = _errorbars(g_ax)
    assert len(bars) == 4 and len(_errorbars(s_ax)) == 4
    colours = [matplotlib.colors.to_hex(b.lines[0].get_color()) for b in bars]
    styles = [b.lines[0].get_linestyle() for b in bars]
    assert colours[0] == colours[2] and colours[1] == colours[3] and colours[0] != colours[1]
    assert styles[0] == styles[1] != styles[2] == styles[3]
    for bar in _errorbars(s_ax):
        assert np.all(np.isfinite(bar.lines[0].get_ydata()))  # no NaN gaps in S(k)


def test_free_particle_comparison_is_visible(files, drawn, tmp_path):
    """Two schemes that coincide on the MSD plot are told apart in the lower panel."""
    a = xr.open_dataset(files[("langevin", 1.0)] / "dynamics.nc")
    b = a.copy(deep=True)
    b["msd"] = a["msd"] * 1.01
    b["msd_block"] = a["msd_block"] * 1.01
    for ds, scheme in ((a, "euler"), (b, "baoab")):
        system = {"n": 64, "box": 100.0, "dim": 2, "seed": 1, "mass": 1.0, "kT": 1.0}
        stage = {"method": "langevin", "scheme": scheme, "kT": 1.0, "friction": 1.0, "dt": 0.01}
        record = provenance_record(f"free/{scheme}", setpoint("free", stage, {"kind": "ideal"}, system), {})
        save_dataset(tmp_path / f"{scheme}.nc", ds.assign_attrs(config=json.dumps({"simulation": record})))
    figures.free_particle([tmp_path / "euler.nc", tmp_path / "baoab.nc"], "x.png")
    top, bottom = drawn[0].axes
    assert bottom.get_yscale() == "linear"
    labels = [t.get_text() for t in bottom.get_legend().get_texts()]
    assert any("euler" in t and "baoab" in t for t in labels)  # the paired difference
    diff = [c for c in _errorbars(bottom) if "same random numbers" in c.get_label()][0]
    t = a["time"].values
    keep = t > 0
    expected = -0.01 * a["msd"].values[keep] / langevin_free_msd(t[keep], 1.0, 1.0, 1.0, 2)
    np.testing.assert_allclose(diff.lines[0].get_ydata(), expected, rtol=1e-9)
    assert np.ptp(diff.lines[0].get_ydata()) < 0.01 < abs(np.mean(diff.lines[0].get_ydata())) * 2


def test_every_report_figure_has_a_caption_of_its_own():
    rules = (REPO / "workflow" / "rules" / "figures.smk").read_text()
    captions = re.findall(r'report\(\s*([^,]+),\s*caption="([^"]+)"', rules)
    # figure_outputs(name, caption, category) in common.smk: results/figures/<name>.png, ../report/<caption>.rst
    captions += [(name, f"../report/{caption}.rst")
                 for name, caption in re.findall(r'figure_outputs\(\s*"([^"]+)",\s*"([^"]+)"', rules)]
    assert len(captions) >= 10
    seen = {}
    for output, caption in captions:
        text = (REPO / "workflow" / "rules" / caption).read_text()
        wildcards = re.findall(r"\{(\w+)\}", output.split("{FIG}")[-1])
        for w in wildcards:  # one caption for many files must name what differs
            assert f"snakemake.wildcards.{w}" in text, f"{caption} does not name wildcard {w}"
        assert caption not in seen, f"{output} and {seen.get(caption)} share {caption}"
        seen[caption] = output
    analysis = (REPO / "workflow" / "rules" / "analysis.smk").read_text()
    assert re.search(r'report\(\s*"results/summary.csv"', analysis)
