"""Point numba's on-disk cache at a directory keyed by the hash of simlib's kernel sources.

numba invalidates a cached kernel only when the kernel's *own* source file
changes. A kernel in ``integrators.py`` that inlines a pair function from
``potentials.py`` would otherwise keep running the old pair function after an
edit or an upgrade. Keying the cache directory by a hash of every engine module that
holds or inlines a kernel (those that import numba) makes any kernel change start
from a fresh cache, while an edit of the pipeline glue (figures, config, stages)
recompiles nothing. ``NUMBA_CACHE_DIR``, if set, is
used as the parent directory.
"""

import hashlib
import os
import sys
import tempfile
from pathlib import Path

import numba


def kernel_sources():
    """Engine modules whose code numba compiles: every ``simlib`` module using numba
    (directly or through :mod:`simlib._kernels`'s ``njit``)."""
    package = Path(__file__).resolve().parent
    pipeline = package / "pipeline"
    return [
        path
        for path in sorted(package.rglob("*.py"))
        if pipeline not in path.parents and path.name != "_cache.py"
        and any(word in path.read_bytes() for word in (b"numba", b"njit"))
    ]


def source_hash():
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in kernel_sources():
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _usable(target):
    """Create ``target`` and check numba can write there (a test file, not only ``os.access``)."""
    try:
        target.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=target, prefix=".probe")
        os.close(fd)
        os.unlink(probe)
        return True
    except OSError:
        return False


def configure():
    """Point numba's cache at the first usable keyed directory; returns it.

    ``NUMBA_CACHE_DIR`` (if set), then ``simlib/__pycache__``, then ``~/.cache/simlib``,
    each with the key as a subdirectory. If none is writable the kernels are compiled
    into a fresh temporary directory (no cache across runs). numba itself would fall
    back to ``__pycache__`` beside the sources, which is not keyed, so simlib never
    leaves ``CACHE_DIR`` pointing at an unusable place. A fallback is said once, on stderr.
    """
    tag = f"simlib-{source_hash()}-numba{numba.__version__}"
    parent = os.environ.get("NUMBA_CACHE_DIR")
    candidates = ([Path(parent)] if parent else []) + [
        Path(__file__).resolve().parent / "__pycache__",
        Path.home() / ".cache" / "simlib",
    ]
    for base in candidates:
        target = base / tag
        if _usable(target):
            if parent and base != Path(parent):
                _say_once(f"simlib: NUMBA_CACHE_DIR={parent} is not writable; numba cache in {target}")
            numba.config.CACHE_DIR = str(target)
            return target
    target = Path(tempfile.mkdtemp(prefix=f"{tag}-"))
    _say_once(f"simlib: no writable numba cache directory ({', '.join(map(str, candidates))}); "
              f"compiling without a persistent cache in {target}")
    numba.config.CACHE_DIR = str(target)
    return target


_said = set()


def _say_once(message):
    if message not in _said:
        _said.add(message)
        print(message, file=sys.stderr)
