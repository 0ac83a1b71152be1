"""Glue for Snakemake scripts: logging to the rule's log and one-line errors.

A workflow script does ``from simlib.pipeline.smk import run_script`` and hands it a
``main(snakemake, log)`` function. Known errors (bad config, bad input file,
numerical blow-up) end the job with one line naming the problem, written to the
rule's log and to the terminal, and exit code 1; no traceback unless
``SIMLIB_DEBUG=1``. Ctrl-C (SIGINT) is deferred to a safe point (never inside a
netCDF write, see :func:`simlib.pipeline.stages.deferred_interrupts`) and ends the
job with one line and exit code 130.
"""

import os
import sys
import time

import numba

from .config import ConfigError
from ..io import DataFileError
from ..simulation import SimulationError
from .stages import StageError, StageInterrupted, deferred_interrupts

KNOWN_ERRORS = (ConfigError, DataFileError, SimulationError, StageError, ValueError)
INTERRUPTED = 130  # the shell's exit code for a job ended by SIGINT


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
    except OSError as err:  # a full disk, a vanished directory: one line naming the file
        if os.environ.get("SIMLIB_DEBUG") == "1":
            raise
        where = f"{err.filename}: " if err.filename else ""
        stop(f"error in rule {rule}: {where}{err.strerror or err}", 1)
    finally:
        if handle is not sys.stderr:
            handle.close()
