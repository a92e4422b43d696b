"""Code actions through the real server on a real third-party project: the installed `idna`
package (its 20,000 lines copied into a temporary workspace), with VS Code's client
capabilities, the real embedder and the default model.

Times the listing over the LSP connection (p50 / p95 of `--lists` requests), then resolves
Fix and Improve on a few of idna's own functions (cursor inside them: the function is the
target), checks that each edit leaves `core.py` parsing, prints the diff, and runs
Explain through `codeassist.explain`. Then, with `hover.explain` on, hovers over calls of
up to 8 of core.py's functions until each shows its model explanation, and times
`--hovers` rounds of hovers with the explanations cached (p50 / p95). Last, with
`diagnostics.reviewOnSave` on, saves `valid_label_length` with an off-by-one, then with an
inverted comparison, and times each review and prints its findings. Figures only, no asserts.

    python3 bench/code_actions_thirdparty.py [--lists 50] [--hovers 10]
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import importlib.util
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_common import code_state, cpu_name, loadavg  # noqa: E402
from lsprotocol import types  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities  # noqa: E402

from codeassist_lsp.config import default_data_dir  # noqa: E402
from codeassist_lsp.index.languages import get_parser  # noqa: E402

TARGETS = (("fix", "valid_label_length"), ("improve", "check_hyphen_ok"))
EXPLAIN = "_combining_class"


def idna_folder() -> Path:
    spec = importlib.util.find_spec("idna")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("idna is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def line_of(text: str, name: str) -> int:
    return next(n for n, line in enumerate(text.split("\n")) if line.startswith(f"def {name}("))


def hover_spots(text: str, limit: int = 8) -> list[types.Position]:
    """The first call of each function core.py defines, up to `limit` of them."""
    spots = []
    lines = text.split("\n")
    for name in re.findall(r"^def (\w+)\(", text, re.MULTILINE):
        for n, line in enumerate(lines):
            column = line.find(f"{name}(")
            if column >= 0 and not line.lstrip().startswith("def "):
                spots.append(types.Position(n, column + 1))
                break
        if len(spots) == limit:
            break
    return spots


async def hover_text(client: LanguageClient, uri: str, at: types.Position) -> str:
    hover = await client.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(uri=uri), at)
    )
    contents = getattr(hover, "contents", None)
    return str(getattr(contents, "value", contents or ""))


async def cached_hovers(
    client: LanguageClient, uri: str, text: str, rounds: int
) -> tuple[int, list[float]]:
    """Hover until each spot shows its explanation, then time `rounds` rounds of hovers."""
    spots = hover_spots(text)
    facts = [await hover_text(client, uri, at) for at in spots]
    explained = []
    for at, first in zip(spots, facts, strict=True):
        for _ in range(180):
            if (await hover_text(client, uri, at)) != first:
                explained.append(at)
                break
            await asyncio.sleep(0.5)
    times = []
    for _ in range(rounds):
        for at in explained:
            start = time.perf_counter()
            await hover_text(client, uri, at)
            times.append((time.perf_counter() - start) * 1000)
    return len(explained), sorted(times)


BUGS = (("an off-by-one", "<= 63", "< 63"), ("an inverted comparison", "<= 63", "> 63"))


async def review_after_save(
    client: LanguageClient, uri: str, text: str, version: int, bug: str
) -> tuple[float, list[types.Diagnostic]]:
    """`valid_label_length` with `bug` saved: the time until the review has finished
    (the server logs each review) and its findings."""
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=bug)],
        )
    )
    logged = len(client.log_messages)
    start = time.perf_counter()
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    while time.perf_counter() - start < 300:
        if any(m.message.startswith("review of") for m in client.log_messages[logged:]):
            break
        await asyncio.sleep(0.2)
    took = time.perf_counter() - start
    return took, [d for d in client.diagnostics.get(uri, []) if d.code == "review"]


def apply(text: str, edits: list[types.TextEdit]) -> str:
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character))[::-1]:
        start = offsets[e.range.start.line] + e.range.start.character
        end = offsets[e.range.end.line] + e.range.end.character
        text = text[:start] + e.new_text + text[end:]
    return text


def edits_of(edit: types.WorkspaceEdit | None) -> list[types.TextEdit]:
    if edit is None:
        return []
    out: list[types.TextEdit] = []
    for change in edit.document_changes or []:
        if isinstance(change, types.TextDocumentEdit):
            out.extend(e for e in change.edits if isinstance(e, types.TextEdit))
    for edits in (edit.changes or {}).values():
        out.extend(edits)
    return out


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lists", type=int, default=50)
    parser.add_argument("--hovers", type=int, default=10)
    args = parser.parse_args()
    run = Path(tempfile.mkdtemp(prefix="codeassist-ca-3p-"))
    root = run / "idna"
    shutil.copytree(idna_folder(), root, ignore=shutil.ignore_patterns("__pycache__"))
    data = run / "data"
    data.mkdir()
    for part in ("models", "embedders"):
        if (default_data_dir() / part).is_dir():
            (data / part).symlink_to(default_data_dir() / part)
    env = {
        **os.environ,
        "CODEASSIST_DATA_DIR": str(data),
        "CODEASSIST_CONFIG": str(data / "none.json"),
    }
    load_start = loadavg()
    command = [sys.executable, "-m", "codeassist_lsp", "serve"]
    client = await ClientServerConfig(server_command=command, server_env=env).start()
    assert isinstance(client, LanguageClient)

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: types.RegistrationParams) -> None:
        """Accept the file watcher."""

    try:
        await client.initialize_session(
            types.InitializeParams(
                capabilities=client_capabilities("visual-studio-code"),
                workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="idna")],
                root_uri=root.as_uri(),
                initialization_options={
                    "hover": {"explain": True},
                    "diagnostics": {"reviewOnSave": True},
                },
            )
        )
        core = root / "core.py"
        text = core.read_text()
        uri = core.as_uri()
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri, "python", 1, text)
            )
        )
        doc = types.TextDocumentIdentifier(uri=uri)
        rows = []
        for kind, name in TARGETS:
            at = types.Position(line_of(text, name) + 2, 4)
            params = types.CodeActionParams(
                text_document=doc,
                range=types.Range(at, at),
                context=types.CodeActionContext(diagnostics=[]),
            )
            listed = []
            for _ in range(args.lists):
                start = time.perf_counter()
                actions = await client.text_document_code_action_async(params)
                listed.append((time.perf_counter() - start) * 1000)
            chosen = next(
                a
                for a in actions or []
                if isinstance(a, types.CodeAction) and a.data["task"] == kind
            )
            start = time.perf_counter()
            resolved = await client.code_action_resolve_async(chosen)
            took = time.perf_counter() - start
            edits = edits_of(resolved.edit)
            after = apply(text, edits)
            parses = not get_parser("python").parse(after.encode()).root_node.has_error
            error = (resolved.data or {}).get("error", "")
            rows.append((kind, name, statistics.median(listed), took, len(edits), parses, error))
            diff = difflib.unified_diff(text.split("\n"), after.split("\n"), lineterm="", n=1)
            print(f"--- {kind} {name}: {error or 'edit'}\n" + "\n".join(list(diff)[2:]))
        at = types.Position(line_of(text, EXPLAIN) + 1, 4)
        argument = {
            "uri": uri,
            "range": {
                "start": {"line": at.line, "character": 4},
                "end": {"line": at.line, "character": 4},
            },
        }
        start = time.perf_counter()
        explained = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="codeassist.explain", arguments=[argument])
        )
        explain_took = time.perf_counter() - start
        explained, hovers = await cached_hovers(client, uri, text, args.hovers)
        reviews = []
        for version, (what, right, wrong) in enumerate(BUGS, start=2):
            bug = text.replace(f"return len(label) {right}", f"return len(label) {wrong}")
            reviews.append((what, *await review_after_save(client, uri, text, version, bug)))
        await asyncio.wait_for(client.shutdown_session(), 120)
    finally:
        await client.stop()
        shutil.rmtree(run, ignore_errors=True)
    print(f"\nCPU: {cpu_name()}; code: {code_state()}")
    print(f"load average (1/5/15 min): start {load_start}, end {loadavg()}\n")
    print("| task | function | listing p50 (LSP round trip) | resolve | edits | parses | error |")
    print("|---|---|---|---|---|---|---|")
    for kind, name, listed_ms, took, count, parses, error in rows:
        print(
            f"| {kind} | `{name}` | {listed_ms:.1f} ms | {took:.1f} s | {count} | "
            f"{parses} | {error} |"
        )
    markdown = getattr(explained, "markdown", None) or str(explained)
    print(f"\nexplain `{EXPLAIN}` in {explain_took:.1f} s: {markdown}")
    if hovers:
        p95 = hovers[min(len(hovers) - 1, int(0.95 * len(hovers)))]
        print(
            f"\nhover with a cached explanation ({explained} definitions, {len(hovers)} hovers"
            f" over LSP): p50 {statistics.median(hovers):.1f} ms, p95 {p95:.1f} ms"
        )
    for what, took, findings in reviews:
        print(f"\nreview after saving {what} in `valid_label_length`: {took:.1f} s")
        for d in findings:
            print(f"  line {d.range.start.line + 1}: {d.message}")


if __name__ == "__main__":
    asyncio.run(main())
