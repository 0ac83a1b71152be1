"""Validate a pipeline configuration against ``config/schema.yaml`` with one-line errors.

Snakemake's own ``validate`` prints a multi-line schema dump; a student who mistyped
a key wants one line that names it. :func:`validate_config` fills in the schema's
defaults and raises :class:`ConfigError` naming the key path and the problem.
"""

import copy
import math
import os

import jsonschema
import yaml


class ConfigError(ValueError):
    """The configuration is invalid; the message names the key."""


def _fill_defaults(validator_class):
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
                elif "$ref" in sub and name not in instance and "default" in sub:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


def _where(error):
    path = ".".join(str(p) for p in error.absolute_path)
    return path or "config"


def _describe(error):
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return f"unknown key(s) {', '.join(repr(k) for k in extra)}"
    if error.validator == "required":
        return error.message.replace("is a required property", "is missing")
    if error.validator == "type":
        if _is_real(error.instance) and not math.isfinite(error.instance):
            return f"must be a finite number, got {error.instance!r}"
        return f"must be of type {error.validator_value}, got {error.instance!r}"
    if error.validator == "uniqueItems":
        return f"duplicate values in {error.instance!r}: each value names one run, list it once"
    if error.validator in ("exclusiveMinimum", "minimum"):
        sign = ">" if error.validator == "exclusiveMinimum" else ">="
        return f"must be {sign} {error.validator_value}, got {error.instance!r}"
    if error.validator in ("exclusiveMaximum", "maximum"):
        sign = "<" if error.validator == "exclusiveMaximum" else "<="
        return f"must be {sign} {error.validator_value}, got {error.instance!r}"
    if error.validator == "enum":
        return f"must be one of {error.validator_value}, got {error.instance!r}"
    if error.validator == "minItems":
        return f"needs at least {error.validator_value} item(s), got an empty list"
    return error.message


def load_schema(schema_path):
    # libyaml when present: it reads the schema in 12 ms instead of 80 ms, and every
    # `snakemake` call reads it
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(schema_path) as handle:
        return yaml.load(handle, Loader=loader)


def validate_config(config, schema_path):
    """Fill defaults into ``config`` in place and check it; raise ConfigError on the first problem."""
    schema = load_schema(schema_path)
    base = jsonschema.validators.validator_for(schema)
    # JSON Schema counts 64.0 as an integer; a particle number or sweep count must be a true int
    # and NaN or inf pass every numeric bound (all comparisons with NaN are false)
    strict_types = base.TYPE_CHECKER.redefine_many({
        "integer": lambda checker, value: isinstance(value, int) and not isinstance(value, bool),
        "number": lambda checker, value: _is_real(value) and math.isfinite(value),
    })
    base = jsonschema.validators.extend(base, type_checker=strict_types)
    validator = _fill_defaults(base)(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.absolute_path), str(e.absolute_path)))
    if errors:
        error = errors[0]
        raise ConfigError(f"config key '{_where(error)}': {_describe(error)}")
    check_consistency(config)
    return config


def _is_real(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_consistency(config):
    """Cross-key checks the schema cannot express."""
    system = config["system"]
    box = system["box"]
    for section in ("lj_langevin", "soft_md", "lj_mc"):
        r_cut = config[section]["potential"].get("r_cut", 2.5)
        if box < 2 * r_cut:
            raise ConfigError(
                f"config key 'system.box': {box} is smaller than twice {section}.potential.r_cut = {r_cut}"
            )
    from ..configurations import lattice_spacing
    from ..geometry import Box

    spacing = lattice_spacing(system["n"], Box.cube(box, system["dim"]))
    if spacing < 1.0:
        raise ConfigError(
            f"config key 'system.n': {system['n']} particles in a box of {box} put lattice sites "
            f"{spacing:.3g} apart (< 1 diameter): density too high"
        )
    for name in ("quench", "production"):
        dr = config["lj_mc"][name].get("move_size")
        if dr is not None and dr >= box / 2:
            raise ConfigError(f"config key 'lj_mc.{name}.move_size': {dr} is not below half the box ({box / 2})")
    _check_checkerboard(config)
    for dr in config["lj_mc"]["acceptance"]["move_sizes"]:
        if dr >= box / 2:
            raise ConfigError(f"config key 'lj_mc.acceptance.move_sizes': {dr} is not below half the box ({box / 2})")
    soft = config["soft_md"]
    if soft["report_dt"] not in soft["drift_dts"]:
        raise ConfigError("config key 'soft_md.report_dt': must be one of soft_md.drift_dts")
    for name in ("temperatures", "polydispersities"):
        values = config["lj_langevin"][name]
        if len(set(values)) != len(values):
            raise ConfigError(f"config key 'lj_langevin.{name}': duplicate values")
    check_runs(config)


def _check_checkerboard(config):
    """A checkerboard Monte Carlo stage needs four cells per box side and moves below half
    a cell: refused here, before any job runs, rather than when its job starts."""
    from ..checkerboard import checkerboard_grid

    system = config["system"]
    potential = config["lj_mc"]["potential"]
    for name in ("quench", "production"):
        stage = config["lj_mc"][name]
        if not stage.get("checkerboard"):
            continue
        # the Monte Carlo runs are monodisperse: hard disks reach one diameter
        reach = 1.0 if potential["kind"] == "hard" else potential.get("r_cut", 2.5)
        lengths = [system["box"]] * system["dim"]
        try:
            cells = checkerboard_grid(lengths, reach, system["n"])
        except ValueError as err:
            raise ConfigError(f"config key 'lj_mc.{name}.checkerboard': {err}") from None
        half_cell = 0.5 * system["box"] / int(cells[0])
        dr = stage.get("move_size", 0.15)
        if dr >= half_cell:
            raise ConfigError(f"config key 'lj_mc.{name}.move_size': {dr} is not below half the checkerboard's "
                              f"cell ({half_cell:.4g})")


# stage section: (the only method it runs, keys the pipeline fills in from another key)
STAGE_SECTIONS = {
    "quench": ("langevin", {}),
    "lj_langevin.production": ("langevin", {"kT": "lj_langevin.temperatures"}),
    "soft_md.equilibrate": ("langevin", {}),
    "soft_md.nve": ("nve", {"dt": "soft_md.drift_dts", "trajectory_every": "soft_md.trajectory_every"}),
    "lj_mc.quench": ("metropolis", {}),
    "lj_mc.production": ("metropolis", {"kT": "lj_mc.temperatures"}),
}
SWEPT_NUMBERS = ("lj_langevin.temperatures", "lj_langevin.polydispersities", "soft_md.drift_dts",
                 "lj_mc.temperatures", "lj_mc.acceptance.temperatures", "lj_mc.acceptance.move_sizes")
TEMPERATURE_LISTS = ("lj_langevin.temperatures", "lj_mc.temperatures", "lj_mc.acceptance.temperatures")


def _get(config, dotted):
    node = config
    for key in dotted.split("."):
        node = node[key]
    return node


def _stage_specs(config):
    """``(config key, full stage spec)`` of every simulation job the config makes."""
    lj, soft, mc, free = config["lj_langevin"], config["soft_md"], config["lj_mc"], config["free_particle"]
    yield "quench", config["quench"]
    for T in lj["temperatures"]:
        yield "lj_langevin.production", {**lj["production"], "kT": T}
    yield "soft_md.equilibrate", soft["equilibrate"]
    for dt in soft["drift_dts"]:
        yield "soft_md.nve", {**soft["nve"], "dt": dt, "trajectory_every": soft["trajectory_every"]}
    yield "lj_mc.quench", mc["quench"]
    for T in mc["temperatures"]:
        yield "lj_mc.production", {**mc["production"], "kT": T}
    sweeps = mc["acceptance"]["sweeps"]
    for T in mc["acceptance"]["temperatures"]:
        for dr in mc["acceptance"]["move_sizes"]:
            yield "lj_mc.acceptance", {"method": "metropolis", "kT": T, "move_size": dr, "sweeps": sweeps,
                                       "thermo_every": sweeps}
    for scheme in free["schemes"]:
        yield "free_particle", {"method": "langevin", "scheme": scheme, "kT": free["kT"],
                                "friction": free["friction"], "dt": free["dt"], "duration": free["duration"],
                                "thermo_every": free["trajectory_every"], "trajectory_every": free["trajectory_every"]}


def check_runs(config):
    """What the schema cannot see: stage specs that fail later, names of runs, potentials, memory."""
    from ..potentials import Potential
    from .specs import StageError, make_method

    for section, (method, filled) in STAGE_SECTIONS.items():
        spec = _get(config, section)
        if spec.get("method") != method:
            raise ConfigError(f"config key '{section}.method': must be {method!r} here, got {spec.get('method')!r}")
        for key, source in filled.items():
            if key in spec:
                raise ConfigError(f"config key '{section}.{key}': does not apply here (filled in from {source}); remove it")
    lengths = {}
    for section, spec in _stage_specs(config):
        try:
            _, length, _, traj = make_method(spec, where=section)
        except StageError as err:
            message = str(err).removeprefix(f"{section}: ")
            if section == "free_particle":  # its thermo interval is its trajectory interval
                message = message.replace("free_particle.thermo_every", "free_particle.trajectory_every")
            raise ConfigError(f"config key '{section}': {message}") from None
        lengths[section] = (length, traj)

    dim = config["system"]["dim"]
    for section in ("lj_langevin", "soft_md", "lj_mc"):
        spec = config[section]["potential"]
        where = f"{section}.potential"
        try:
            Potential(**spec)
        except (TypeError, ValueError) as err:
            raise ConfigError(f"config key '{where}': {err}") from None
        if spec["kind"] == "hard" and section != "lj_mc":
            raise ConfigError(f"config key '{where}.kind': 'hard' is for Monte Carlo only (lj_mc); "
                              "allowed here: soft12, lj, lj_smooth")
        if spec.get("tail_correction") and dim != 3:
            raise ConfigError(f"config key '{where}.tail_correction': only defined in 3D (system.dim = {dim}); "
                              "allowed: false")
        if section == "soft_md" and spec.get("shift") is False:
            raise ConfigError(f"config key '{where}.shift': the NVE stage needs a shifted potential; allowed: true")

    for dotted in SWEPT_NUMBERS:
        for value in _get(config, dotted):
            if math.copysign(1.0, value) < 0 or "e" in str(value) or "inf" in str(value):
                raise ConfigError(f"config key '{dotted}': {value!r} cannot name a run; allowed: plain decimals "
                                  "like 0.15 (no sign, no exponent: values >= 0.0001 or 0)")
    names = {}
    for dotted in TEMPERATURE_LISTS:
        for value in _get(config, dotted):
            other = names.setdefault(float(value), (str(value), dotted))
            if other[0] != str(value):
                raise ConfigError(f"config key '{dotted}': {value!r} and {other[0]} in {other[1]} are one temperature "
                                  f"named two ways; write both as {float(value)!r}")

    fit = config["analysis"]["msd_fit"]
    if not fit["start"] < fit["stop"]:
        raise ConfigError(f"config key 'analysis.msd_fit.start': must be < msd_fit.stop = {fit['stop']}, "
                          f"got {fit['start']}")
    _check_vacf_window(config, "lj_langevin.production", config["lj_langevin"]["production"],
                       config["lj_langevin"]["production"].get("trajectory_every"))
    _check_vacf_window(config, "soft_md.nve", config["soft_md"]["nve"], config["soft_md"]["trajectory_every"])
    production = config["lj_langevin"]["production"]
    for t in config["analysis"]["snapshot_times"]:
        if t > production["duration"]:
            raise ConfigError(f"config key 'analysis.snapshot_times': {t} is after the end of "
                              f"lj_langevin.production (duration {production['duration']}); allowed: 0 to that")
    check_memory(config, lengths)


def first_analysed_frame(n_frames, equilibrated_fraction):
    """Index of the first frame the analysis uses: the last ``equilibrated_fraction``."""
    return min(int(math.floor(n_frames * (1.0 - equilibrated_fraction))), n_frames - 1)


def msd_fit_end(duration, frame_every, analysis):
    """Last lag [t0] of the MSD fit of a stage's trajectory (frames at 0, e, ..., duration),
    as the analysis takes it: from :func:`first_analysed_frame` on, the fit ending at
    ``msd_fit.stop`` of the longest lag."""
    n_frames = int(round(duration / frame_every)) + 1
    first = first_analysed_frame(n_frames, analysis["equilibrated_fraction"])
    return analysis["msd_fit"]["stop"] * (n_frames - 1 - first) * frame_every


def _check_vacf_window(config, where, stage, frame_every):
    """A stage whose VACF feeds D_green_kubo needs a window reaching the MSD fit's last lag:
    filled in when the config leaves it out, refused when it is shorter."""
    if "vacf_every" not in stage:
        raise ConfigError(f"config key '{where}.vacf_every': required (the stage writes the finely sampled VACF "
                          "behind D_green_kubo); allowed: a multiple of dt, e.g. 0.02")
    if not frame_every:
        return
    end = msd_fit_end(stage["duration"], frame_every, config["analysis"])
    if "vacf_window" not in stage:
        stage["vacf_window"] = float(f"{end:.12g}")
        return
    window = stage["vacf_window"]
    if window < end * (1 - 1e-9):
        raise ConfigError(f"config key '{where}.vacf_window': {window!r} stops short of the MSD fit window, "
                          f"which ends at lag {end:g} t0; allowed: >= {end:g} (D_green_kubo is matched to it)")


def _physical_memory():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def run_memory(n, dim, frames):
    """Rough peak memory [bytes] of one run: state and neighbour list, and its trajectory in the analysis."""
    per_particle = 8 * dim * 8 + 8 * 64  # float64 state arrays, a generous neighbour list
    trajectory = frames * n * (3 * 4 * 3 + 3 * 8 * dim)  # float32/int32 frames read, float64 copies
    return n * per_particle + trajectory


def check_memory(config, lengths, available=None):
    """Refuse a run that cannot fit in this machine's memory (before anything runs)."""
    available = available if available is not None else _physical_memory()
    if not available:
        return
    dim = config["system"]["dim"]
    runs = [("system.n", config["system"]["n"], "lj_langevin.production"),
            ("system.n", config["system"]["n"], "lj_mc.production"),
            ("system.n", config["system"]["n"], "soft_md.nve"),
            ("free_particle.n", config["free_particle"]["n"], "free_particle")]
    for key, n, section in runs:
        length, traj = lengths.get(section, (0, None))
        frames = 0 if not traj else length // traj + 1
        need = run_memory(n, dim, frames)
        if need > available:
            raise ConfigError(
                f"config key '{key}': a {section} run of {n} particles ({frames} trajectory frames) needs about "
                f"{need / 1e9:.3g} GB of memory, more than this machine's {available / 1e9:.3g} GB; "
                "allowed: fewer particles or frames"
            )


def schema_rows(schema, prefix="", defs=None):
    """Flatten a schema into ``(key path, type, default, description)`` rows."""
    defs = defs if defs is not None else schema.get("$defs", {})
    rows = []
    for name, sub in schema.get("properties", {}).items():
        path = f"{prefix}{name}"
        resolved = sub
        if "$ref" in sub:
            resolved = {**defs[sub["$ref"].split("/")[-1]], **{k: v for k, v in sub.items() if k != "$ref"}}
        kind = resolved.get("type", "")
        if kind == "array" and "items" in resolved:
            item = resolved["items"]
            if "$ref" in item:
                item = defs[item["$ref"].split("/")[-1]]
            kind = f"list of {item.get('type', '')}"
        limits = []
        for key, sign in (("exclusiveMinimum", ">"), ("minimum", ">="), ("exclusiveMaximum", "<"), ("maximum", "<=")):
            if key in resolved:
                limits.append(f"{sign} {resolved[key]}")
        if "enum" in resolved:
            limits.append("one of " + ", ".join(str(v) for v in resolved["enum"]))
        if "minItems" in resolved:
            limits.append(f"at least {resolved['minItems']} item(s)")
        if resolved.get("uniqueItems"):
            limits.append("no duplicates")
        default = resolved.get("default", "")
        description = resolved.get("description", "")
        if limits:
            description = f"{description} ({'; '.join(limits)})".strip()
        if kind == "object" and "properties" in resolved:
            rows.append((path, "section", json_default(default), description))
            rows.extend(schema_rows(resolved, prefix=f"{path}.", defs=defs))
        else:
            rows.append((path, kind, json_default(default), description))
    return rows


def json_default(value):
    if value == "" or value is None:
        return ""
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


def schema_markdown(schema_path):
    """The key table of ``config/README.md``, generated from the schema."""
    schema = load_schema(schema_path)
    lines = ["| key | type | default | meaning [unit] (limits) |", "|---|---|---|---|"]
    for path, kind, default, description in schema_rows(schema):
        lines.append(f"| `{path}` | {kind} | `{default}` | {description} |" if default else f"| `{path}` | {kind} |  | {description} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    print(schema_markdown(sys.argv[1] if len(sys.argv) > 1 else "config/schema.yaml"), end="")
