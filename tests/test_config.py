"""Configuration: shipped configs validate, the key table in config/README.md matches the schema."""

from pathlib import Path

import yaml

from simlib.pipeline.config import schema_markdown, schema_rows, validate_config

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "config" / "schema.yaml"


def test_shipped_configs_validate():
    for name in ("config.yaml", "test.yaml"):
        config = yaml.safe_load((REPO / "config" / name).read_text())
        validate_config(config, SCHEMA)


def test_defaults_fill_an_empty_config_with_the_course():
    config = {}
    validate_config(config, SCHEMA)
    course = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    validate_config(course, SCHEMA)
    assert config == course


def test_config_readme_lists_every_key_as_the_schema_says():
    assert schema_markdown(SCHEMA) in (REPO / "config" / "README.md").read_text()


def test_every_leaf_key_has_a_description():
    schema = yaml.safe_load(SCHEMA.read_text())
    missing = [path for path, kind, _, text in schema_rows(schema) if kind != "section" and not text]
    assert not missing, missing


def _test_config(**mc_production):
    config = yaml.safe_load((REPO / "config" / "test.yaml").read_text())
    config["lj_mc"]["production"].update(mc_production)
    return config


def test_checkerboard_monte_carlo_is_checked_before_anything_runs():
    import pytest

    from simlib.pipeline.config import ConfigError

    config = _test_config(checkerboard=True)
    config["system"] = {"n": 400, "box": 25.0, "dim": 2}  # 10 cells of 2.5
    validate_config(config, SCHEMA)
    assert config["lj_mc"]["production"]["checkerboard"] is True
    # a box of 9 holds fewer than 4 cells of r_cut 2.5: refused, naming the key
    with pytest.raises(ConfigError, match=r"'lj_mc.production.checkerboard'.*4 interaction ranges"):
        validate_config(_test_config(checkerboard=True, move_size=0.1) | {"system": {"n": 64, "box": 9.0,
                                                                                       "dim": 2}}, SCHEMA)
    config = _test_config(checkerboard=True, move_size=1.3)
    config["system"] = {"n": 400, "box": 25.0, "dim": 2}
    with pytest.raises(ConfigError, match=r"'lj_mc.production.move_size'.*half the checkerboard's cell \(1.25\)"):
        validate_config(config, SCHEMA)
    with pytest.raises(ConfigError, match=r"lj_mc.production.checkerboard.*boolean"):
        validate_config(_test_config(checkerboard="yes"), SCHEMA)
