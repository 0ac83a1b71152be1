"""Point numba's on-disk cache at a directory keyed by the hash of simlib's sources.

numba invalidates a cached kernel only when the kernel's *own* source file
changes. A kernel in ``integrators.py`` that inlines a pair function from
``potentials.py`` would otherwise keep running the old pair function after an
edit or an upgrade. Keying the cache directory by a hash of every simlib source
file makes any change start from a fresh cache. ``NUMBA_CACHE_DIR``, if set, is
used as the parent directory.
"""

import hashlib
import os
from pathlib import Path

import numba


def source_hash():
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def configure():
    tag = f"simlib-{source_hash()}-numba{numba.__version__}"
    parent = os.environ.get("NUMBA_CACHE_DIR")
    candidates = [Path(parent)] if parent else [
        Path(__file__).resolve().parent / "__pycache__",
        Path.home() / ".cache" / "simlib",
    ]
    for base in candidates:
        target = base / tag
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(target, os.W_OK):
            numba.config.CACHE_DIR = str(target)
            return target
    return None
