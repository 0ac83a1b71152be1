"""The study pipeline's glue, kept apart from the engine.

``simlib`` (the package above) is the engine: numpy, numba kernels, netCDF files and
freud-style analyses; it imports without Snakemake, matplotlib, jsonschema or yaml.
This subpackage holds what the Snakemake workflow needs on top of it:

``config``       schema validation of the workflow config (jsonschema, yaml)
``stages``       one pipeline stage from a spec: checkpoints, resume, thermo, trajectory
``specs``        stage specs to engine objects (checked by ``stages`` and ``config``)
``postprocess``  per-run key numbers, summary and study tables
``figures``      report figures from pipeline files (``plots`` draws them, matplotlib)
``manifest``     hashes of every output and the environment
``compare``      the grader's check of two summaries (``python -m simlib.compare``)
``smk``          logging and one-line errors for workflow scripts
"""
