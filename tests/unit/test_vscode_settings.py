"""Every setting the server reads has a contribution in the VS Code extension, with a
description and the server's default (so the Settings UI tells the truth)."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from codeassist_lsp.config import Settings

PACKAGE = Path(__file__).resolve().parents[2] / "clients" / "vscode" / "package.json"


def _leaves(obj: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        key = prefix + re.sub(r"_([a-z])", lambda m: m.group(1).upper(), f.name)
        if dataclasses.is_dataclass(value):
            yield from _leaves(value, key + ".")
        else:
            yield key, value


def test_every_server_setting_is_contributed_with_its_default() -> None:
    props = json.loads(PACKAGE.read_text())["contributes"]["configuration"]["properties"]
    for key, default in _leaves(Settings()):
        prop = props.get(f"codeassist.{key}")
        assert prop is not None, f"codeassist.{key} is not contributed"
        assert prop.get("description"), f"codeassist.{key} has no description"
        if key != "dataDir":  # the server's default depends on the environment
            assert prop["default"] == default, f"codeassist.{key}: {prop['default']} != {default}"
