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
