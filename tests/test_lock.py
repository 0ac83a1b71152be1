"""The pinned environment: the locks agree with pyproject.toml, CI uses them, the manifest hashes them."""

import hashlib
import os
import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]


def _canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock_pins():
    pins = {}
    for line in (REPO / "requirements-lock.txt").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==([^ ;\\]+)", line)
        if match:
            pins[_canonical(match.group(1))] = Version(match.group(2))
    return pins


def _declared():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in project["dependencies"]], [
        Requirement(r) for r in project["optional-dependencies"]["test"]]


def test_every_declared_dependency_is_pinned_within_its_range():
    pins = _lock_pins()
    main, test = _declared()
    assert len(pins) > 50  # the full transitive set, not only the direct dependencies
    for req in main + test:
        name = _canonical(req.name)
        assert name in pins, f"{req.name} is declared in pyproject.toml but not pinned in requirements-lock.txt"
        assert req.specifier.contains(pins[name], prereleases=True), f"{req.name}: lock has {pins[name]}, needs {req}"
    # what the report needs comes with the main dependencies
    assert "pygments" in pins and any(r.name == "snakemake" and "reports" in r.extras for r in main)


def test_every_pin_carries_a_hash():
    text = (REPO / "requirements-lock.txt").read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2] if text.startswith("#") else text)
    for entry in entries:
        if "==" in entry:
            assert "--hash=sha256:" in entry, entry.splitlines()[0]


def test_conda_lock_installs_the_pip_lock_on_a_pinned_python():
    env = yaml.safe_load((REPO / "environment-lock.yml").read_text())
    deps = env["dependencies"]
    python = [d for d in deps if isinstance(d, str) and d.startswith("python=")]
    assert python and re.fullmatch(r"python=\d+\.\d+\.\d+", python[0])
    pip = [d for d in deps if isinstance(d, dict)][0]["pip"]
    assert pip == ["-r requirements-lock.txt"]


def test_conda_environment_has_the_same_packages_as_pyproject():
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    conda = {_canonical(re.split(r"[<>=!]", d)[0]) for d in env["dependencies"] if isinstance(d, str)}
    main, _ = _declared()
    names = {_canonical(r.name) for r in main}
    # snakemake[reports] is snakemake plus pygments in conda
    names |= {"pygments"} if any("reports" in r.extras for r in main) else set()
    assert names <= conda, f"missing from environment.yml: {sorted(names - conda)}"


def test_ci_installs_from_the_lock():
    ci = (REPO / ".ci" / "run").read_text()
    assert "--require-hashes -r requirements-lock.txt" in ci
    assert "--no-deps -e ." in ci


def test_manifest_records_the_lock_hashes(tmp_path):
    from simlib.pipeline.manifest import lock_hashes, write_manifest

    (tmp_path / "a.csv").write_text("x\n1\n")
    manifest = write_manifest(tmp_path / "manifest.json", [tmp_path / "a.csv"], root=tmp_path)
    expected = hashlib.sha256((REPO / "requirements-lock.txt").read_bytes()).hexdigest()
    assert manifest["environment"]["lock_files"]["requirements-lock.txt"] == expected
    assert lock_hashes()["environment-lock.yml"] == hashlib.sha256(
        (REPO / "environment-lock.yml").read_bytes()).hexdigest()
    for key in ("snakemake_version", "matplotlib_version", "gsd_version", "git_dirty"):
        assert key in manifest["environment"]


@pytest.mark.parametrize("name", ["numpy", "numba", "xarray", "netcdf4", "snakemake", "matplotlib", "gsd"])
def test_installed_versions_match_the_lock_when_installed_from_it(name):
    """In CI (.ci/run installs from the lock and sets SIMLIB_LOCKED=1) the pins are what runs."""
    from importlib import metadata

    if not os.environ.get("SIMLIB_LOCKED"):
        pytest.skip("environment not installed from requirements-lock.txt (.ci/run sets SIMLIB_LOCKED=1)")
    assert Version(metadata.version(name)) == _lock_pins()[_canonical(name)]
