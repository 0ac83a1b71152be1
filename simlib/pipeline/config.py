"""Validate a pipeline configuration against ``config/schema.yaml`` with one-line errors.

Snakemake's own ``validate`` prints a multi-line schema dump; a student who mistyped
a key wants one line that names it. :func:`validate_config` fills in the schema's
defaults and raises :class:`ConfigError` naming the key path and the problem.
"""

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
                    instance[name] = _copy(sub["default"])
                elif "$ref" in sub and name not in instance and "default" in sub:
                    instance[name] = _copy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


def _copy(value):
    return yaml.safe_load(yaml.safe_dump(value))


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
        return f"must be of type {error.validator_value}, got {error.instance!r}"
    if error.validator in ("exclusiveMinimum", "minimum"):
        sign = ">" if error.validator == "exclusiveMinimum" else ">="
        return f"must be {sign} {error.validator_value}, got {error.instance!r}"
    if error.validator in ("exclusiveMaximum", "maximum"):
        sign = "<" if error.validator == "exclusiveMaximum" else "<="
        return f"must be {sign} {error.validator_value}, got {error.instance!r}"
    if error.validator == "enum":
        return f"must be one of {error.validator_value}, got {error.instance!r}"
    if error.validator == "minItems":
        return f"needs at least {error.validator_value} item(s)"
    return error.message


def validate_config(config, schema_path):
    """Fill defaults into ``config`` in place and check it; raise ConfigError on the first problem."""
    with open(schema_path) as handle:
        schema = yaml.safe_load(handle)
    base = jsonschema.validators.validator_for(schema)
    # JSON Schema counts 64.0 as an integer; a particle number or sweep count must be a true int
    strict_types = base.TYPE_CHECKER.redefine(
        "integer", lambda checker, value: isinstance(value, int) and not isinstance(value, bool)
    )
    base = jsonschema.validators.extend(base, type_checker=strict_types)
    validator = _fill_defaults(base)(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.absolute_path), str(e.absolute_path)))
    if errors:
        error = errors[0]
        raise ConfigError(f"config key '{_where(error)}': {_describe(error)}")
    check_consistency(config)
    return config


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
    with open(schema_path) as handle:
        schema = yaml.safe_load(handle)
    lines = ["| key | type | default | meaning [unit] (limits) |", "|---|---|---|---|"]
    for path, kind, default, description in schema_rows(schema):
        lines.append(f"| `{path}` | {kind} | `{default}` | {description} |" if default else f"| `{path}` | {kind} |  | {description} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    print(schema_markdown(sys.argv[1] if len(sys.argv) > 1 else "config/schema.yaml"), end="")
