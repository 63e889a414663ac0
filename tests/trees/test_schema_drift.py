"""The committed JSON Schemas are exactly what the models produce."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.trees.models import DEFAULT_SCHEMA_DIR, SCHEMA_FILES, export_schemas, schema_texts

from .factories import valid_tree

REPO = Path(__file__).resolve().parents[2]


def test_schema_folder_is_the_committed_one() -> None:
    assert DEFAULT_SCHEMA_DIR == REPO / "design_docs" / "schemas"


@pytest.mark.parametrize("name", sorted(SCHEMA_FILES))
def test_committed_schema_matches_models(name: str) -> None:
    committed = REPO / "design_docs" / "schemas" / name
    assert committed.is_file(), f"{committed} is missing: run `python -m api.trees.models`"
    assert committed.read_text(encoding="utf-8") == schema_texts()[name], (
        f"{committed.name} differs from the models: run `python -m api.trees.models` and commit the result"
    )


def test_export_writes_every_schema(tmp_path: Path) -> None:
    written = export_schemas(tmp_path / "out")
    assert sorted(p.name for p in written) == sorted(SCHEMA_FILES)
    for path in written:
        assert path.read_text(encoding="utf-8") == schema_texts()[path.name]


def test_schema_describes_the_format() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(schema_texts()["tree.schema.json"])
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    assert list(validator.iter_errors(valid_tree())) == []
    broken = valid_tree()
    broken["nodes"]["scope"]["next"]["maybe"] = "vda"
    assert list(validator.iter_errors(broken)), "the schema must refuse unknown answers"
