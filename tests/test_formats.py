"""Output files as other tools read them: modes, GSD, CF conventions, units, provenance.

Small real runs (N = 64 LJ disks, a few frames) go through the pipeline's
``run_stage`` and ``analyse_run``; every check compares against simlib's own numbers.
Checks that need only gsd, netCDF4 and xarray always run; those that need an
optional tool (MDAnalysis, OVITO, cf_units, cfchecker with libudunits2) skip with
the reason when it is missing.
"""

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import netCDF4
import numpy as np
import pytest
import xarray as xr

from simlib.analysis import fit_diffusion, green_kubo_diffusion
from simlib.gsd_trajectory import GSDTrajectoryWriter, load_gsd
from simlib.io import (
    CONVENTIONS,
    csv_sidecar_path,
    load_state,
    load_trajectory,
    write_csv_sidecar,
)
from simlib.pipeline.postprocess import analyse_run, read_numbers, save_dataset, write_json
from simlib.pipeline.runs import provenance_record, setpoint
from simlib.pipeline.stages import run_stage

gsd_hoomd = pytest.importorskip("gsd.hoomd", reason="gsd is a main dependency: pip install gsd")

LJ = {"kind": "lj", "r_cut": 2.5}
SYSTEM = {"n": 64, "box": 12.0, "dim": 2, "seed": 11, "polydispersity": 0.15}
LANGEVIN = {"method": "langevin", "kT": 1.0, "dt": 0.01, "duration": 2.0, "thermo_every": 0.1,
            "trajectory_every": 0.1}
MC = {"method": "metropolis", "kT": 1.0, "sweeps": 40, "move_size": 0.15, "thermo_every": 5,
      "trajectory_every": 5}
# the reduced-unit vocabulary of simlib.io: products of powers of a, t0, eps, m
REDUCED = {"a", "t0", "eps", "m", "a/t0", "m a/t0", "eps/a^2", "eps/a^3", "a^2", "a^2/t0", "a^2/t0^2", "1/a"}


def _quiet(_):
    pass


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """An MD (Langevin) and a Monte Carlo run with trajectories, analysed, under umask 022."""
    root = tmp_path_factory.mktemp("formats")
    old = os.umask(0o022)
    try:
        md, mc = root / "md", root / "mc"
        mc_system = {**SYSTEM, "polydispersity": 0.0}
        run_stage(LANGEVIN, LJ, SYSTEM, md / "state.nc", md / "thermo.nc", md / "trajectory.nc", log=_quiet,
                  config=provenance_record("md", setpoint("lj", LANGEVIN, LJ, SYSTEM), {"test": "md"}))
        run_stage(MC, LJ, mc_system, mc / "state.nc", mc / "thermo.nc",
                  mc / "trajectory.nc", log=_quiet,
                  config=provenance_record("mc", setpoint("mc", MC, LJ, mc_system), {"test": "mc"}))
        for run, name in ((md, "md"), (mc, "mc")):
            row, datasets = analyse_run(run / "thermo.nc", run / "trajectory.nc",
                                        settings={"rdf": {"r_max": 5.0, "bins": 50},
                                                  "structure_factor": {"k_max": 8.0, "bins": 40}},
                                        expected_run=name)
            write_json(run / "analysis.json", row)
            for name, ds in datasets.items():
                save_dataset(run / f"{name}.nc", ds)
        write_csv_sidecar(root / "summary.csv", ["run", "kT"], config={"test": "summary"})
    finally:
        os.umask(old)
    return root


# -- 1. modes ---------------------------------------------------------------------------
def test_every_output_has_the_umask_mode(runs):
    files = [p for p in runs.rglob("*") if p.is_file()]
    assert len(files) >= 14
    wrong = {str(p.relative_to(runs)): oct(stat.S_IMODE(p.stat().st_mode)) for p in files
             if stat.S_IMODE(p.stat().st_mode) != 0o644}
    assert not wrong, f"files not 0644 under umask 022: {wrong}"


def test_mode_follows_a_stricter_umask(tmp_path):
    from simlib.io import atomic_path

    old = os.umask(0o077)
    try:
        with atomic_path(tmp_path / "x.txt") as tmp:
            tmp.write_text("x")
        writer = GSDTrajectoryWriter(tmp_path / "t.gsd")
        writer.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "x.txt").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "t.gsd").stat().st_mode) == 0o600


# -- 2. GSD ---------------------------------------------------------------------------------
def test_gsd_matches_the_simlib_trajectory(runs):
    traj = load_trajectory(runs / "md" / "trajectory.nc")
    state, _ = load_state(runs / "md" / "state.nc")
    with gsd_hoomd.open(runs / "md" / "trajectory.gsd", "r") as f:
        assert len(f) == traj.sizes["frame"] == 21
        for i in (0, 10, 20):
            frame = f[i]
            assert frame.configuration.dimensions == 2
            assert frame.particles.N == 64
            np.testing.assert_array_equal(frame.configuration.box, [12.0, 12.0, 0.0, 0.0, 0.0, 0.0])
            np.testing.assert_allclose(frame.particles.diameter, traj["diameters"].values, rtol=1e-7)
            assert np.ptp(frame.particles.diameter) > 0.1  # polydisperse: the radii carry information
            half = frame.configuration.box[:2] / 2
            pos = frame.particles.position
            assert np.all(pos[:, :2] >= -half) and np.all(pos[:, :2] < half) and np.all(pos[:, 2] == 0)
            unwrapped = pos[:, :2].astype(np.float64) + frame.particles.image[:, :2] * 12.0
            np.testing.assert_allclose(unwrapped, traj["unwrapped"].values[i], atol=2e-5)
            np.testing.assert_allclose(frame.particles.velocity[:, :2], traj["velocities"].values[i], atol=1e-5)
            assert frame.configuration.step == traj["step"].values[i]
    # the last frame is the final state, to float32 precision
    last = load_gsd(runs / "md" / "trajectory.gsd")
    unwrapped_state = state.positions + state.images * state.box.lengths
    np.testing.assert_allclose(last["unwrapped"][-1, :, :2], unwrapped_state, atol=2e-5)
    assert last["provenance"]["config"]["config"] == {"test": "md"}


def test_gsd_of_monte_carlo_counts_sweeps(runs):
    data = load_gsd(runs / "mc" / "trajectory.gsd")
    np.testing.assert_array_equal(data["step"], np.arange(0, 41, 5))
    assert data["dimensions"] == 2


def test_gsd_3d_and_resume(tmp_path):
    """3D flag and box; a run killed after a checkpoint and resumed gives the same GSD."""
    import simlib

    state = simlib.initial_state(27, simlib.Box.cube(4.0, 3), seed=5, kT=1.0)
    sim = simlib.Simulation(state, simlib.Potential("soft12", r_cut=2.0), simlib.Langevin(kT=1.0, dt=0.005))
    snapshots = []
    for _ in range(4):
        sim.run(10)
        snapshots.append(state.copy())
    whole = GSDTrajectoryWriter(tmp_path / "whole.gsd")
    for s in snapshots:
        whole.append(s)
    whole.close()
    cut = GSDTrajectoryWriter(tmp_path / "cut.gsd")
    for s in snapshots[:3]:
        cut.append(s)
    cut.sync()
    cut.abort(keep_partial=True)  # killed after 3 frames; the checkpoint knew of 2
    resumed = GSDTrajectoryWriter(tmp_path / "cut.gsd", resume_frames=2)
    for s in snapshots[2:]:
        resumed.append(s)
    resumed.close()
    a, b = load_gsd(tmp_path / "whole.gsd"), load_gsd(tmp_path / "cut.gsd")
    assert a["dimensions"] == 3
    np.testing.assert_array_equal(a["box"], [[4.0, 4.0, 4.0]] * 4)
    for key in ("step", "positions", "images", "velocities", "diameters"):
        np.testing.assert_array_equal(a[key], b[key])
    unwrapped = snapshots[-1].positions + snapshots[-1].images * 4.0
    np.testing.assert_allclose(a["unwrapped"][-1], unwrapped, atol=1e-5)


def test_gsd_read_by_mdanalysis(runs):
    mda = pytest.importorskip("MDAnalysis", reason="MDAnalysis not installed (test extra)")
    u = mda.Universe(str(runs / "md" / "trajectory.gsd"))
    traj = load_trajectory(runs / "md" / "trajectory.nc")
    assert u.atoms.n_atoms == 64 and len(u.trajectory) == 21
    np.testing.assert_allclose(u.dimensions, [12, 12, 0, 90, 90, 90])
    np.testing.assert_allclose(u.atoms.radii, traj["diameters"].values / 2, rtol=1e-6)
    raw = load_gsd(runs / "md" / "trajectory.gsd")
    u.trajectory[20]
    np.testing.assert_allclose(u.atoms.positions, raw["positions"][20], atol=1e-6)


def test_gsd_read_by_ovito(runs):
    pytest.importorskip("ovito", reason="OVITO's Python module not installed (pip install ovito)")
    from ovito.io import import_file
    from ovito.modifiers import UnwrapTrajectoriesModifier

    pipeline = import_file(str(runs / "md" / "trajectory.gsd"))
    pipeline.modifiers.append(UnwrapTrajectoriesModifier())
    traj = load_trajectory(runs / "md" / "trajectory.nc")
    assert pipeline.source.num_frames == 21
    data = pipeline.compute(20)
    assert data.cell.is2D
    assert data.particles.count == 64
    np.testing.assert_allclose(np.diag(data.cell[:2, :2]), [12.0, 12.0])
    np.testing.assert_allclose(data.particles["Radius"][...], traj["diameters"].values / 2, rtol=1e-6)
    # OVITO's cell starts at -L/2 (GSD's centred box): unwrapped positions agree up to that origin
    origin = data.cell[:2, 3]
    np.testing.assert_allclose(origin, [-6.0, -6.0])
    ovito_unwrapped = np.asarray(data.particles.positions[...])[:, :2]
    np.testing.assert_allclose(ovito_unwrapped, traj["unwrapped"].values[20], atol=2e-5)


# -- 3. CF ---------------------------------------------------------------------------------
def _netcdf_files(runs):
    return {
        "state": runs / "md" / "state.nc",
        "thermo (MD)": runs / "md" / "thermo.nc",
        "thermo (MC)": runs / "mc" / "thermo.nc",
        "structure": runs / "md" / "structure.nc",
        "dynamics": runs / "md" / "dynamics.nc",
    }


def test_cf_conventions_and_one_unit_vocabulary(runs):
    for kind, path in _netcdf_files(runs).items():
        with netCDF4.Dataset(path) as nc:
            assert nc.Conventions == CONVENTIONS == "CF-1.8", kind
            for name, var in nc.variables.items():
                attrs = var.ncattrs()
                if var.dtype == str or var.dtype.kind == "S":
                    continue
                assert "units" in attrs, f"{kind}: {name} has no units"
                assert var.units in ("1", "s", "degree"), f"{kind}: {name} has units {var.units!r}"
                if "reduced_units" in attrs:
                    assert var.units == "1", f"{kind}: {name}"
                    assert var.reduced_units in REDUCED, f"{kind}: {name}: {var.reduced_units!r}"
                assert "long_name" in attrs or name in ("lag",), f"{kind}: {name} has no long_name"


def test_thermo_coordinates_time_for_md_sweep_for_mc(runs):
    md = xr.open_dataset(runs / "md" / "thermo.nc")
    assert "time" in md.indexes and md["potential_per_particle"].dims == ("time",)
    assert md["pressure"].attrs["reduced_units"] == "eps/a^2"
    np.testing.assert_allclose(np.diff(md["time"].values), 0.1)
    mc = xr.open_dataset(runs / "mc" / "thermo.nc")
    assert "sweep" in mc.indexes and mc["potential_per_particle"].dims == ("sweep",)
    np.testing.assert_array_equal(mc["sweep"].values, np.arange(0, 41, 5))
    for fake in ("time", "stage_time", "kinetic_temperature", "kinetic_per_particle", "total_per_particle"):
        assert fake not in mc.variables, f"Monte Carlo thermo has {fake}"
    with netCDF4.Dataset(runs / "mc" / "trajectory.nc") as nc:
        assert "time" not in nc.variables  # MDAnalysis then numbers frames instead of dt = 0
        assert nc.variables["step"][:].tolist() == list(range(0, 41, 5))


def test_units_parse_with_cf_units(runs):
    import locale

    # OVITO's Qt sets LC_NUMERIC to C.UTF-8, which Python 3.11's getlocale reports as
    # en_US.UTF-8; cf_units then fails restoring it (at import and after every parse)
    locale.setlocale(locale.LC_NUMERIC, "C")
    cf_units = pytest.importorskip("cf_units", reason="cf_units not installed (pip install cf-units)")
    for kind, path in _netcdf_files(runs).items():
        with netCDF4.Dataset(path) as nc:
            for name, var in nc.variables.items():
                if "units" in var.ncattrs():
                    unit = cf_units.Unit(var.units)  # raises on a string UDUNITS rejects
                    assert not unit.is_unknown(), f"{kind}: {name}"
    # the strings this fixed: 'a' was the are (100 m^2) and eps was not a unit at all
    assert cf_units.Unit("a").convert(1, "m2") == 100
    with pytest.raises(ValueError):
        cf_units.Unit("eps")


def _cfchecker_tables(tmp_path):
    """Minimal CF tables so cfchecker runs offline (it would download the full ones)."""
    (tmp_path / "std.xml").write_text(
        '<?xml version="1.0"?><standard_name_table><version_number>84</version_number>'
        "<last_modified>2024-01-01T00:00:00Z</last_modified>"
        '<entry id="time"><canonical_units>s</canonical_units></entry></standard_name_table>')
    (tmp_path / "area.xml").write_text(
        '<?xml version="1.0"?><area_type_table><version_number>11</version_number><date>2024-01-01</date>'
        '<entry id="land"></entry></area_type_table>')
    (tmp_path / "region.xml").write_text(
        '<?xml version="1.0"?><standard_region_list><version_number>4</version_number><date>2024-01-01</date>'
        '<entry id="global"></entry></standard_region_list>')
    return ["-s", str(tmp_path / "std.xml"), "-a", str(tmp_path / "area.xml"), "-r", str(tmp_path / "region.xml")]


def test_cfchecker_finds_no_error_or_warning(runs, tmp_path):
    pytest.importorskip("cfchecker", reason="cfchecker not installed (pip install cfchecker)")
    try:
        import cfunits  # noqa: F401  (cfchecker's units; needs the UDUNITS-2 C library)
    except (ImportError, FileNotFoundError, OSError) as err:
        pytest.skip(f"cfchecker needs libudunits2 (Debian: apt-get install libudunits2-0): {err}")
    cfchecks = shutil.which("cfchecks", path=str(Path(sys.executable).parent)) or shutil.which("cfchecks")
    tables = _cfchecker_tables(tmp_path)
    for kind, path in _netcdf_files(runs).items():
        out = subprocess.run([cfchecks, "-v", "1.8", *tables, str(path)], capture_output=True, text=True,
                             timeout=300)
        report = out.stdout + out.stderr
        assert "ERRORS detected: 0" in report, f"{kind}:\n{report[-3000:]}"
        assert "WARNINGS given: 0" in report, f"{kind}:\n{report[-3000:]}"


# -- 4. provenance ---------------------------------------------------------------------------
def test_provenance_everywhere(runs):
    needed = ("git_commit", "git_dirty", "snakemake_version", "matplotlib_version", "gsd_version",
              "numpy_version", "config")
    for kind, path in _netcdf_files(runs).items():
        attrs = xr.open_dataset(path).attrs
        missing = [k for k in needed if k not in attrs]
        assert not missing, f"{kind} lacks {missing}"
        assert attrs["git_dirty"] in ("true", "false", "unknown")
    with netCDF4.Dataset(runs / "md" / "trajectory.nc") as nc:
        assert all(k in nc.ncattrs() for k in needed)
    assert all(k in load_gsd(runs / "md" / "trajectory.gsd")["provenance"] for k in needed)
    record = json.loads((runs / "md" / "analysis.json").read_text())
    assert all(k in record["provenance"] for k in needed)
    # the analysis records the simulation's config and its own settings
    assert record["provenance"]["config"]["simulation"]["config"] == {"test": "md"}
    assert "rdf" in record["provenance"]["config"]["analysis"]
    assert "provenance" not in read_numbers(runs / "md" / "analysis.json")
    sidecar = json.loads(csv_sidecar_path(runs / "summary.csv").read_text())
    assert sidecar["url"] == "summary.csv"
    assert [c["name"] for c in sidecar["tableSchema"]["columns"]] == ["run", "kT"]
    assert all(k in sidecar["simlib:provenance"] for k in needed)


def test_git_dirty_flag_matches_git_status():
    from simlib.io import git_revision

    repo = Path(__file__).resolve().parents[1]
    commit, dirty = git_revision()
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo,
                            capture_output=True, text=True)
    if status.returncode != 0:
        pytest.skip("not a git checkout")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
    assert commit == head
    assert dirty == ("true" if status.stdout.strip() else "false")


# -- 5. analysis datasets ----------------------------------------------------------------------
def test_dynamics_file_feeds_fit_diffusion(runs):
    ds = xr.open_dataset(runs / "md" / "dynamics.nc")
    row = read_numbers(runs / "md" / "analysis.json")
    fit = fit_diffusion(ds, t_min=ds.attrs["D_fit_t_min"], t_max=ds.attrs["D_fit_t_max"])
    assert fit.D == pytest.approx(row["D"], rel=1e-12)
    assert fit.D_err == pytest.approx(row["D_err"], rel=1e-12)
    # D_green_kubo is the slope the VACF implies over the MSD fit's lags
    gk = green_kubo_diffusion(ds, msd_fit=fit)
    assert gk.D == pytest.approx(row["D_green_kubo"], rel=1e-12)
    assert gk.D_err == pytest.approx(row["D_green_kubo_err"], rel=1e-12)
    # error curves are the block standard errors
    blocks = ds["msd_block"].values
    np.testing.assert_allclose(ds["msd_err"].values, blocks.std(axis=1, ddof=1) / np.sqrt(blocks.shape[1]))


def test_structure_file_has_no_gaps_and_has_errors(runs):
    ds = xr.open_dataset(runs / "md" / "structure.nc")
    assert np.all(np.isfinite(ds["S"].values)) and np.all(ds["n_vectors"].values > 0)
    assert np.all(np.isfinite(ds["S_err"].values)) and np.all(ds["S_err"].values >= 0)
    assert np.all(np.diff(ds["k"].values) > 0)
    # the smallest k of a 12 x 12 box is 2 pi / 12; it must be kept, not lost in an empty bin
    assert ds["k"].values[0] == pytest.approx(2 * np.pi / 12.0)
    assert np.all(np.isfinite(ds["g_err"].values))
    assert ds.attrs["n_particles"] == 64 and json.loads(ds.attrs["box"]) == [12.0, 12.0]


def test_gsd_read_by_freud(runs):
    """freud takes the box from the GSD frame as 2D, and its g(r) of the GSD positions is
    simlib's (a 3D reading of the AMBER cell levels off near 1.3 instead)."""
    freud = pytest.importorskip("freud", reason="freud not installed (test extra freud-analysis)")
    from simlib.analysis import RDF

    with gsd_hoomd.open(runs / "md" / "trajectory.gsd", "r") as f:
        frame = f[20]
    box = freud.box.Box.from_box(frame.configuration.box)
    assert box.is2D and box.Lx == box.Ly == 12.0
    ours = RDF(bins=25, r_max=5.0).compute(frame.particles.position[:, :2].astype(np.float64), [12.0, 12.0]).rdf
    theirs = freud.density.RDF(bins=25, r_max=5.0, normalization_mode="finite_size")
    theirs.compute((box, frame.particles.position))
    np.testing.assert_allclose(theirs.rdf, ours, rtol=1e-4, atol=1e-6)
    assert abs(np.mean(ours[15:]) - 1.0) < 0.2


def test_manifest_hash_of_gsd_and_json_ignores_provenance(tmp_path):
    """Two writes of the same frames at different times (different provenance) hash the
    same; a changed position does not."""
    import time

    import simlib
    from simlib.pipeline.manifest import data_hash

    state = simlib.initial_state(16, simlib.Box.cube(6.0, 2), seed=1)
    hashes = []
    for name, config in (("a.gsd", {"x": 1}), ("b.gsd", {"x": 2})):
        writer = GSDTrajectoryWriter(tmp_path / name, config=config)
        writer.append(state)
        writer.close()
        hashes.append(data_hash(tmp_path / name))
        time.sleep(1.1)  # another creation time
    assert hashes[0] == hashes[1]
    state.positions[0, 0] += 0.5
    writer = GSDTrajectoryWriter(tmp_path / "c.gsd")
    writer.append(state)
    writer.close()
    assert data_hash(tmp_path / "c.gsd") != hashes[0]
    write_json(tmp_path / "a.json", {"D": 1.0}, config={"x": 1})
    time.sleep(1.1)
    write_json(tmp_path / "b.json", {"D": 1.0}, config={"x": 2})
    write_json(tmp_path / "c.json", {"D": 2.0})
    assert data_hash(tmp_path / "a.json") == data_hash(tmp_path / "b.json") != data_hash(tmp_path / "c.json")
