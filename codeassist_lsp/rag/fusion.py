"""Reciprocal rank fusion: merge ranked lists without comparing their raw scores."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass
class Fused:
    """One item after fusion: its fused score and the lists it came from."""

    key: str
    score: float
    why: list[str] = field(default_factory=list)


def reciprocal_rank_fusion(
    rankings: Mapping[str, Sequence[str]],
    k: int = 60,
    weights: Mapping[str, float] | None = None,
) -> list[Fused]:
    """Score each key by sum(weight / (k + rank)) over the lists it appears in, best first.

    Duplicate keys inside one list count once, at their best rank.
    """
    fused: dict[str, Fused] = {}
    for source, keys in rankings.items():
        weight = 1.0 if weights is None else weights.get(source, 1.0)
        seen: set[str] = set()
        for rank, key in enumerate(keys, start=1):
            if key in seen:
                continue
            seen.add(key)
            item = fused.setdefault(key, Fused(key, 0.0))
            item.score += weight / (k + rank)
            item.why.append(source)
    return sorted(fused.values(), key=lambda f: (-f.score, f.key))


def score_fusion(
    scored: Mapping[str, Sequence[tuple[str, float]]],
    weights: Mapping[str, float] | None = None,
) -> list[Fused]:
    """Score each key by the weighted sum of its min-max normalised scores, best first."""
    fused: dict[str, Fused] = {}
    for source, pairs in scored.items():
        if not pairs:
            continue
        weight = 1.0 if weights is None else weights.get(source, 1.0)
        values = [score for _, score in pairs]
        low, high = min(values), max(values)
        span = high - low
        seen: set[str] = set()
        for key, score in pairs:
            if key in seen:
                continue
            seen.add(key)
            item = fused.setdefault(key, Fused(key, 0.0))
            item.score += weight * ((score - low) / span if span > 0 else 1.0)
            item.why.append(source)
    return sorted(fused.values(), key=lambda f: (-f.score, f.key))
