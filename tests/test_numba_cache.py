"""The numba cache stays keyed by the kernel sources when NUMBA_CACHE_DIR is unusable
(issue 14, item 10): simlib uses the next keyed location, or compiles into a
temporary directory, and says so once; numba never falls back to the unkeyed
``__pycache__`` beside the sources."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROBE = (
    "import numba, simlib\n"
    "from simlib._cache import configure\n"
    "print(numba.config.CACHE_DIR)\n"
    "configure()\n"  # a second call says nothing new
)


def _run(env_changes):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + [p for p in [env.get("PYTHONPATH")] if p])
    env.update(env_changes)
    return subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=300)


def test_unusable_numba_cache_dir_falls_back_to_a_keyed_location(tmp_path):
    from simlib._cache import source_hash

    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    out = _run({"NUMBA_CACHE_DIR": str(blocker / "cache"), "HOME": str(tmp_path / "home")})
    assert out.returncode == 0, out.stderr
    cache_dir = out.stdout.strip().splitlines()[-1]
    assert f"simlib-{source_hash()}-" in cache_dir and str(blocker) not in cache_dir
    lines = [line for line in out.stderr.splitlines() if "NUMBA_CACHE_DIR" in line]
    assert len(lines) == 1 and str(blocker / "cache") in lines[0] and "not writable" in lines[0], out.stderr


def test_usable_numba_cache_dir_is_used_keyed_and_silently(tmp_path):
    from simlib._cache import source_hash

    out = _run({"NUMBA_CACHE_DIR": str(tmp_path / "cache")})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == str(tmp_path / "cache" / f"simlib-{source_hash()}-numba"
                                                     f"{__import__('numba').__version__}")
    assert "simlib:" not in out.stderr
