"""The benchmark machinery behind `python -m bench.engine` and `snakemake scaling` runs:
every code measured at a size, best rows, ratios and thread speed-ups, the scaling CSV
(with simlib's peak memory) and figure. Timings themselves are not tested here."""

import csv
import importlib.util
import re
import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # bench/ is not installed: it sits beside simlib in the checkout

from bench import engine  # noqa: E402


def test_codes_are_measured_and_compared_in_one_run(tmp_path):
    # one case on one and two threads (every case on one thread, with its counterpart:
    # test_scaling_script_writes_the_csv_and_figure, test_each_case_runs_its_counterpart_...)
    rows = engine.measure_codes([256], kinds=("mc_checkerboard",), threads=(1, 2), repeats=1,
                                target_seconds=0.2, lammps=False, log=lambda *_: None)
    simlib_rows = {(r["kind"], r["threads"]) for r in rows if r["code"] == "simlib"}
    assert simlib_rows == {("mc_checkerboard", 1), ("mc_checkerboard", 2)}
    assert all(r["rate"] > 0 and r["peak_memory_mb"] > 0 for r in rows if r["code"] == "simlib")
    best = engine.best_rows(rows)
    speedups = engine.thread_speedups(best)
    assert {(s["kind"], s["threads"]) for s in speedups} == {("mc_checkerboard", 2)}
    has_reference = (engine.SHARED_BENCH / "ref_sim.cpp").exists() and shutil.which("g++")
    if has_reference:
        assert {r["kind"] for r in rows if r["code"] == "c++"} == {"mc"}
        assert {(r["kind"], r["versus"]) for r in engine.ratios(best) if r["threads"] == 1} == {
            ("mc_checkerboard", "c++ mc")}



def test_scaling_script_writes_the_csv_and_figure(tmp_path):
    """The `scaling` rule's script, run as Snakemake runs it (a `snakemake` object in its
    globals), on one small size."""
    import numba

    smk = SimpleNamespace(
        scriptdir=str(ROOT / "workflow" / "scripts"), log=[str(tmp_path / "scaling.log")], rule="scaling",
        threads=2, wildcards={}, input=SimpleNamespace(),
        params=SimpleNamespace(sizes=[256], threads=[1], repeats=1, seconds=0.2),
        output=SimpleNamespace(csv=str(tmp_path / "scaling.csv"), figure=str(tmp_path / "scaling.png")),
    )
    spec = importlib.util.spec_from_file_location("scaling_script", ROOT / "workflow" / "scripts" / "scaling.py")
    script = importlib.util.module_from_spec(spec)
    script.snakemake = smk
    threads = numba.get_num_threads()
    try:
        spec.loader.exec_module(script)
    finally:
        numba.set_num_threads(threads)
    with open(tmp_path / "scaling.csv") as handle:
        table = list(csv.DictReader(handle))
    assert {(r["code"], r["kind"]) for r in table if r["code"] == "simlib"} == {
        ("simlib", "langevin"), ("simlib", "nve"), ("simlib", "mc"), ("simlib", "mc_checkerboard")}
    assert all(float(r["peak_memory_mb"]) > 0 and float(r["ns_per_particle_step"]) > 0
               for r in table if r["code"] == "simlib")
    assert (tmp_path / "scaling.png").stat().st_size > 10_000
    log = (tmp_path / "scaling.log").read_text()
    assert "wrote" in log and "ratios (simlib / other" in log
    assert re.search(r"simlib  langevin +256 +1 +[0-9.e+]+ +[0-9.]+", log)  # code, kind, N, threads, rate, cost
    if (engine.SHARED_BENCH / "ref_sim.cpp").exists() and shutil.which("g++"):
        for kind, versus in (("langevin", "c++ langevin"), ("nve", "c++ langevin"), ("mc", "c++ mc"),
                             ("mc_checkerboard", "c++ mc")):
            assert f"simlib {kind:<15} N=256     threads=1 vs {versus}" in log


def test_the_scaling_rule_compares_every_size_with_lammps():
    """LAMMPS's input builds a square lattice: each size of the `scaling` rule must round
    to a lattice close enough for a ratio (`engine.same_size`)."""
    rule = (ROOT / "workflow" / "rules" / "scaling.smk").read_text()
    sizes = [int(n) for n in re.search(r"sizes=\[([0-9, ]+)\]", rule).group(1).split(",")]
    assert sizes[0] <= 1100 and sizes[-1] >= 10**6
    assert all(engine.same_size(n, engine.lammps_atoms(n)) for n in sizes)
    assert not engine.same_size(1000, engine.lammps_atoms(1000))


def test_other_codes_run_once_per_size_above_the_threshold(monkeypatch):
    calls = []
    monkeypatch.setattr(engine, "run_simlib", lambda kind, n, t, s: calls.append(("simlib", n)) or
                        {"code": "simlib", "kind": kind, "n": n, "threads": t, "rate": 1.0})
    monkeypatch.setattr(engine, "build_reference", lambda work, log: Path("ref"))
    monkeypatch.setattr(engine, "run_reference", lambda b, kind, n, s, g: calls.append(("c++", n)) or
                        {"code": "c++", "kind": kind, "n": n, "threads": 1, "rate": 1.0})
    big = engine.OTHERS_ONCE_ABOVE + 1
    engine.measure_codes([1024, big], kinds=("langevin",), repeats=3, lammps=False, log=lambda *_: None)
    assert calls.count(("c++", 1024)) == 3 and calls.count(("c++", big)) == 1
    assert calls.count(("simlib", big)) == 3


def test_each_case_runs_its_counterpart_in_the_other_codes(monkeypatch):
    """nve is compared with the reference's Langevin, the checkerboard sweep with its serial
    Monte Carlo, even when the counterpart case itself is not asked for."""
    calls = []
    monkeypatch.setattr(engine, "run_simlib", lambda kind, n, t, s: {"code": "simlib", "kind": kind, "n": n,
                                                                     "threads": t, "rate": 2.0})
    monkeypatch.setattr(engine, "build_reference", lambda work, log: Path("ref"))
    monkeypatch.setattr(engine, "run_reference", lambda b, kind, n, s, g: calls.append(kind) or
                        {"code": "c++", "kind": kind, "n": n, "threads": 1, "rate": 1.0})
    rows = engine.measure_codes([1024], kinds=("nve", "mc_checkerboard"), repeats=1, lammps=False,
                                log=lambda *_: None)
    assert sorted(calls) == ["langevin", "mc"]
    assert {(r["kind"], r["versus"], r["ratio"]) for r in engine.ratios(engine.best_rows(rows))} == {
        ("nve", "c++ langevin", 2.0), ("mc_checkerboard", "c++ mc", 2.0)}


def test_a_missing_reference_is_said_in_the_callers_log(monkeypatch, tmp_path):
    """The `scaling` rule passes its log: a run without the C++ reference or LAMMPS says so
    there, not on a stdout nobody reads."""
    monkeypatch.setattr(engine, "SHARED_BENCH", tmp_path / "no-bench")
    monkeypatch.setattr(engine, "run_simlib", lambda kind, n, t, s: {"code": "simlib", "kind": kind, "n": n,
                                                                     "threads": t, "rate": 1.0})
    monkeypatch.setenv("SIMLIB_LMP", "/usr/bin/true")
    said = []
    engine.measure_codes([256], kinds=("langevin",), repeats=1, log=said.append)
    assert any("C++ reference skipped" in line for line in said), said
    assert any("LAMMPS skipped" in line for line in said), said
