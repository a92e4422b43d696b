"""Build output that mirrors a source file ranks below it; everything else is untouched."""

from __future__ import annotations

from pathlib import Path

from codeassist_lsp.config import Settings
from codeassist_lsp.index.embed_fake import FakeEmbedder
from codeassist_lsp.index.generated import generated_files
from codeassist_lsp.index.workspace import WorkspaceIndex
from codeassist_lsp.rag.retriever import search_index


def test_build_copies_declarations_and_bundles_are_generated() -> None:
    paths = [
        "src/client.ts",
        "src/client.d.ts",
        "dist/client.js",
        "dist/client.d.ts",
        "src/core/atom.ts",
        "dist/core/atom.d.ts",  # a declaration built into dist/ from a source without one
        "dist/extra.js",  # no source of that name: kept
        "build/lib/pkg/mod.py",
        "pkg/mod.py",
        "lib/retry.ts",
        "out/retry.js",  # `out/` mirrors the root, not `lib/`
        "vendor/bundle.js",
        "docs/build/index.md",
    ]
    tails = {"vendor/bundle.js": "x()\n//# sourceMappingURL=bundle.js.map\n"}
    found = generated_files(paths, tails)
    assert found == {
        "build/lib/pkg/mod.py": "a build copy of pkg/mod.py",
        "dist/client.js": "a build copy of src/client.ts",
        "dist/client.d.ts": "a build copy of src/client.d.ts",
        "dist/core/atom.d.ts": "a build copy of src/core/atom.ts",
        "src/client.d.ts": "a build copy of src/client.ts",
        "vendor/bundle.js": "it ends with a source map comment",
    }


def test_a_question_finds_the_source_above_its_build_copy(tmp_path: Path) -> None:
    source = (
        "export function retryWithBackoff(attempts: number): number {\n"
        "  // wait longer after every failed attempt\n"
        "  return Math.min(30, 2 ** attempts);\n"
        "}\n"
    )
    built = (  # the bundler kept a doc comment of another module: the copy matches better
        "/** wait longer after every failed attempt, then give up */\n"
        "export function retryWithBackoff(attempts) {\n"
        "  // wait longer after every failed attempt\n"
        "  return Math.min(30, 2 ** attempts);\n"
        "}\n"
        "//# sourceMappingURL=backoff.js.map\n"
    )
    root = tmp_path / "ws"
    for rel, text in {"src/backoff.ts": source, "dist/backoff.js": built}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    index = WorkspaceIndex(root, Settings(data_dir=tmp_path / "data"), FakeEmbedder())
    index.refresh()
    hits = search_index(index, "wait longer after every failed attempt", 5)
    assert [h.chunk.path for h in hits][:2] == ["src/backoff.ts", "dist/backoff.js"]
    index.close()
