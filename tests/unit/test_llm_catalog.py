"""The tier recommendation: a pure function of RAM and physical cores."""

from __future__ import annotations

import pytest

from codeassist_lsp.llm.catalog import CATALOG, GIB, find_spec, recommend


def test_catalog_has_one_tier_per_role() -> None:
    assert {s.role for s in CATALOG} == {"default", "quality", "smoke"}
    quality = find_spec("qwen2.5-coder-1.5b")
    assert quality is not None and quality.min_cores == 4


@pytest.mark.parametrize(
    ("ram_gib", "cores", "expected"),
    [
        (24, 2, "qwen2.5-coder-0.5b"),  # this machine: plenty of RAM, too few cores
        (24, 1, "qwen2.5-coder-0.5b"),
        (24, 4, "qwen2.5-coder-1.5b"),
        (16, 8, "qwen2.5-coder-1.5b"),
        (6, 8, "qwen2.5-coder-0.5b"),  # enough cores, too little RAM for the 1.5B
        (4, 2, "qwen2.5-coder-0.5b"),
        (1, 8, "smollm2-135m"),
        (0, 0, "smollm2-135m"),  # unknown hardware: the model that runs anywhere
    ],
)
def test_recommendation_weighs_ram_and_cores(ram_gib: int, cores: int, expected: str) -> None:
    assert recommend(ram_gib * GIB, cores).spec.name == expected


def test_the_reason_names_what_holds_the_bigger_tier_back() -> None:
    assert recommend(24 * GIB, 2).reason == "qwen2.5-coder-1.5b wants 4 physical cores"
    assert recommend(6 * GIB, 8).reason == "qwen2.5-coder-1.5b wants 7.5 GB of RAM"
    assert recommend(1 * GIB, 8).reason == "qwen2.5-coder-0.5b wants 3.0 GB of RAM"
    assert recommend(24 * GIB, 4).reason == "the largest packaged tier"
