"""``python -m simlib.compare``: the grader's check (lives in :mod:`simlib.pipeline.compare`)."""

from .pipeline.compare import main

if __name__ == "__main__":
    import sys

    sys.exit(main())
