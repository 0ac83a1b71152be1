"""Glue for Snakemake scripts: logging to the rule's log and one-line errors.

A workflow script does ``from simlib.pipeline.smk import run_script`` and hands it a
``main(snakemake, log)`` function. Known errors (bad config, bad input file,
numerical blow-up) end the job with one line naming the problem, written to the
rule's log and to the terminal, and exit code 1; no traceback unless
``SIMLIB_DEBUG=1``. Ctrl-C (SIGINT) is deferred to a safe point (never inside a
netCDF write, see :func:`simlib.pipeline.stages.deferred_interrupts`) and ends the
job with one line and exit code 130.
"""

import contextlib
import errno
import os
import shutil
import sys
import time

import numba

from .config import ConfigError
from ..io import DataFileError
from ..simulation import SimulationError
from .stages import StageError, StageInterrupted, deferred_interrupts

KNOWN_ERRORS = (ConfigError, DataFileError, SimulationError, StageError, ValueError)
INTERRUPTED = 130  # the shell's exit code for a job ended by SIGINT


def _storage_error(err, snakemake):
    """One line for a failed file operation, or None if ``err`` is not one.

    netCDF-C reports a full disk as ``RuntimeError('NetCDF: HDF error')`` or
    ``RuntimeError('No space left on device')`` without a file name, so the line names
    the output directory and the space left there.
    """
    text = str(err)
    if isinstance(err, OSError) and err.errno not in (None, errno.ENOSPC, errno.EDQUOT):
        where = f"{err.filename}: " if err.filename else ""
        return f"{where}{err.strerror or text}"
    if not (isinstance(err, OSError) or "NetCDF" in text or "HDF" in text or "No space left" in text):
        return None
    folders = sorted({os.path.dirname(os.path.abspath(str(p))) for p in getattr(snakemake, "output", [])})
    free = []
    for folder in folders:
        with contextlib.suppress(OSError):
            free.append(f"{folder} has {shutil.disk_usage(folder).free / 1e6:.3g} MB free")
    full = (isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT)) or "No space left" in text
    head = "disk full (no space left on device)" if full else f"writing or reading a netCDF file failed ({text})"
    return f"{head}; " + ("; ".join(free) if free else "output directory unknown")


def run_script(snakemake, main):
    log_path = snakemake.log[0] if len(snakemake.log) else None
    handle = open(log_path, "a") if log_path else sys.stderr
    rule = getattr(snakemake, "rule", "script")
    start = time.perf_counter()

    def log(message):
        handle.write(f"[{time.strftime('%H:%M:%S')}] {message}\n")
        handle.flush()

    # numba threads follow the rule's `threads:` so parallel jobs never oversubscribe cores
    threads = max(1, min(int(getattr(snakemake, "threads", 1)), numba.config.NUMBA_NUM_THREADS))
    numba.set_num_threads(threads)
    def stop(message, code):
        log(message)
        print(message, file=sys.__stderr__)
        sys.exit(code)

    try:
        with deferred_interrupts():
            log(f"rule {rule}: start {dict(snakemake.wildcards.items())} threads={threads}")
            main(snakemake, log)
            log(f"rule {rule}: done in {time.perf_counter() - start:.1f} s")
    except (StageInterrupted, KeyboardInterrupt) as err:
        if os.environ.get("SIMLIB_DEBUG") == "1":
            raise
        stop(f"error in rule {rule}: {err or 'interrupted (SIGINT)'}", INTERRUPTED)
    except KNOWN_ERRORS as err:
        if os.environ.get("SIMLIB_DEBUG") == "1":
            raise
        stop(f"error in rule {rule}: {err}", 1)
    except (OSError, RuntimeError) as err:  # a full disk, a vanished directory
        message = _storage_error(err, snakemake)
        if message is None or os.environ.get("SIMLIB_DEBUG") == "1":
            raise
        stop(f"error in rule {rule}: {message}", 1)
    finally:
        if handle is not sys.stderr:
            handle.close()
