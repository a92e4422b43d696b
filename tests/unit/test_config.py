from __future__ import annotations

import json
from pathlib import Path

from codeassist_lsp.config import Settings, apply_options, load_settings


def test_camel_case_options_layer_over_defaults() -> None:
    settings, errors = apply_options(
        Settings(),
        {"index": {"maxFileBytes": 2048, "exclude": ["*.gen.py"]}, "search": {"limit": 3}},
    )
    assert errors == []
    assert settings.index.max_file_bytes == 2048
    assert settings.index.exclude == ["*.gen.py"]
    assert settings.search.limit == 3
    assert settings.search.rrf_k == 60


def test_invalid_values_are_reported_and_defaults_kept() -> None:
    settings, errors = apply_options(
        Settings(), {"index": {"maxFileBytes": "big"}, "nope": 1, "search": {"graphExpansion": 1}}
    )
    assert settings.index.max_file_bytes == 1_000_000
    assert settings.search.graph_expansion is True
    assert any("maxFileBytes" in e for e in errors)
    assert any("nope" in e for e in errors)
    assert any("graphExpansion" in e for e in errors)


def test_settings_with_choices_accept_only_those() -> None:
    settings, errors = apply_options(Settings(), {"search": {"fusion": "rrf"}})
    assert (settings.search.fusion, errors) == ("rrf", [])
    settings, errors = apply_options(Settings(), {"search": {"fusion": "borda"}})
    assert settings.search.fusion == "score"
    assert errors == ["search.fusion: 'borda' is not one of 'score', 'rrf'"]


def test_config_file_and_broken_config_file(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"codeassist": {"search": {"vectorK": 7}}}))
    settings, errors = load_settings(path)
    assert settings.search.vector_k == 7 and errors == []
    path.write_text("{not json")
    settings, errors = load_settings(path)
    assert settings.search.vector_k == Settings().search.vector_k
    assert errors and "cannot read config" in errors[0]
