"""parse_source per language: symbols, docstrings, imports, references, errors, odd input."""

from __future__ import annotations

import json
import textwrap

import pytest

from codeassist_lsp.index.languages import get_parser, language_for_path
from codeassist_lsp.index.model import Import, ParsedFile, Symbol
from codeassist_lsp.index.parse import parse_source


def _src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def _sym(pf: ParsedFile, qualname: str) -> Symbol:
    matches = [s for s in pf.symbols if s.qualname == qualname]
    assert matches, f"{qualname} not in {[s.qualname for s in pf.symbols]}"
    return matches[0]


def _calls(pf: ParsedFile) -> set[tuple[str | None, str]]:
    return {(r.source, r.target) for r in pf.references if r.kind == "calls"}


def _refs(pf: ParsedFile, kind: str) -> set[tuple[str | None, str]]:
    return {(r.source, r.target) for r in pf.references if r.kind == kind}


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("a/b.py", "python"),
        ("types.pyi", "python"),
        ("x.js", "javascript"),
        ("x.mjs", "javascript"),
        ("x.jsx", "javascript"),
        ("x.ts", "typescript"),
        ("x.d.ts", "typescript"),
        ("x.tsx", "tsx"),
        ("main.go", "go"),
        ("lib.rs", "rust"),
        ("A.java", "java"),
        ("a.c", "c"),
        ("a.h", "c"),
        ("a.hpp", "cpp"),
        ("a.cc", "cpp"),
        ("a.rb", "ruby"),
        ("Rakefile", "ruby"),
        ("README.md", "markdown"),
        ("nb.ipynb", "notebook"),
        ("notes.txt", "text"),
        ("conf.toml", "text"),
        ("ci.yaml", "text"),
        ("run.sh", "text"),
        ("Makefile", "text"),
        ("Dockerfile", "text"),
        ("Dockerfile.dev", "text"),
        ("go.mod", "text"),
        ("picture.png", None),
        ("weird.xyz", None),
    ],
)
def test_language_for_path(path: str, language: str | None) -> None:
    assert language_for_path(path) == language


def test_parsers_are_cached_per_language() -> None:
    assert get_parser("python") is get_parser("python")
    assert get_parser("python") is not get_parser("go")


PYTHON = _src(
    '''
    """Client module."""
    import os.path as osp, sys
    from ..net import (retry as again, backoff)
    from . import util
    from pkg.mod import *

    MAX_RETRIES = 3


    @dataclass
    class Client(Base, abc.Mixin):
        """Sends requests.

        More detail.
        """

        timeout: int = 3

        def send(self, request: Request) -> Response:
            """Send one request."""
            self.http.retry(request)
            return helper(request)

        # Close the thing.
        async def close(
            self,
            force: bool = False,
        ) -> None:
            def inner():
                pass
            await super().close()


    def helper(x):
        return util.fmt(x)
    '''
)


def test_python_symbols_qualnames_and_lines() -> None:
    pf = parse_source("pkg/client.py", PYTHON)
    assert pf.language == "python"
    assert pf.syntax_errors == []
    client = _sym(pf, "Client")
    assert (client.kind, client.start_line, client.end_line) == ("class", 10, 31)
    send = _sym(pf, "Client.send")
    assert (send.kind, send.parent, send.start_line, send.end_line) == ("method", "Client", 19, 22)
    assert _sym(pf, "Client.close").kind == "method"
    inner = _sym(pf, "Client.close.inner")
    assert (inner.kind, inner.parent) == ("function", "Client.close")
    assert _sym(pf, "helper").kind == "function"
    assert _sym(pf, "MAX_RETRIES").kind == "constant"


def test_python_signatures_and_docstrings() -> None:
    pf = parse_source("pkg/client.py", PYTHON)
    assert _sym(pf, "Client").signature == "class Client(Base, abc.Mixin):"
    assert _sym(pf, "Client").docstring == "Sends requests.\n\nMore detail."
    assert _sym(pf, "Client.send").signature == ("def send(self, request: Request) -> Response:")
    assert _sym(pf, "Client.send").docstring == "Send one request."
    close = _sym(pf, "Client.close")
    assert close.signature == "async def close(self, force: bool = False,) -> None:"
    assert close.docstring == "Close the thing."
    assert _sym(pf, "helper").docstring == ""


def test_python_imports() -> None:
    pf = parse_source("pkg/client.py", PYTHON)
    assert pf.imports == [
        Import("os.path", (), "osp", 2),
        Import("sys", (), None, 2),
        Import("..net", ("backoff",), None, 3),
        Import("..net", ("retry",), "again", 3),
        Import(".", ("util",), None, 4),
        Import("pkg.mod", ("*",), None, 5),
    ]


def test_python_references() -> None:
    pf = parse_source("pkg/client.py", PYTHON)
    calls = _calls(pf)
    assert ("Client.send", "self.http.retry") in calls
    assert ("Client.send", "helper") in calls
    assert ("Client.close", "super().close") in calls
    assert ("helper", "util.fmt") in calls
    assert ("Client", "dataclass") in _refs(pf, "references")
    assert _refs(pf, "inherits") == {("Client", "Base"), ("Client", "abc.Mixin")}
    assert ("Client.send", "Request") in _refs(pf, "references")
    retry = next(r for r in pf.references if r.target == "self.http.retry")
    assert (retry.name, retry.line) == ("retry", 21)


def test_python_syntax_errors_are_reported_and_symbols_survive() -> None:
    pf = parse_source("bad.py", "def ok():\n    return 1\n\ndef broken(:\n    pass\n")
    assert pf.syntax_errors
    line, message = pf.syntax_errors[0]
    assert line == 4
    assert "syntax error" in message
    assert _sym(pf, "ok").end_line == 2


def test_missing_token_is_named() -> None:
    pf = parse_source("m.go", "package m\n\nfunc f() {\n\tx := g(1\n}\n")
    assert any("missing" in message for _, message in pf.syntax_errors)


JS = _src(
    """
    import React, { useState, helper as h } from './util';
    import * as ns from "../lib/ns";
    const fs = require('fs');
    const { a, b: bee } = require('./mod');
    export * from './reexport';

    /**
     * Adds numbers.
     */
    export function add(x, y) {
      return h(x) + ns.deep.fn(y);
    }

    // Handles a request.
    export const handler = async (req) => {
      return new Response(req);
    };

    export const LIMIT = 10;

    class Widget extends Base {
      /** Renders it. */
      render() {
        this.paint();
        return <Panel title="x" />;
      }
    }
    """
)


def test_javascript_symbols_docs_and_signatures() -> None:
    pf = parse_source("src/app.jsx", JS)
    assert pf.syntax_errors == []
    add = _sym(pf, "add")
    assert (add.kind, add.start_line, add.end_line) == ("function", 10, 12)
    assert add.docstring == "Adds numbers."
    assert add.signature == "function add(x, y)"
    handler = _sym(pf, "handler")
    assert handler.kind == "function"
    assert handler.docstring == "Handles a request."
    assert handler.signature == "const handler = async (req) =>"
    assert _sym(pf, "LIMIT").kind == "constant"
    render = _sym(pf, "Widget.render")
    assert (render.kind, render.parent, render.docstring) == ("method", "Widget", "Renders it.")


def test_javascript_imports() -> None:
    pf = parse_source("src/app.jsx", JS)
    assert set(pf.imports) == {
        Import("./util", ("useState",), None, 1),
        Import("./util", ("default",), "React", 1),
        Import("./util", ("helper",), "h", 1),
        Import("../lib/ns", (), "ns", 2),
        Import("fs", (), "fs", 3),
        Import("./mod", ("a",), None, 4),
        Import("./mod", ("b",), "bee", 4),
        Import("./reexport", ("*",), None, 5),
    }


def test_javascript_references() -> None:
    pf = parse_source("src/app.jsx", JS)
    calls = _calls(pf)
    assert {("add", "h"), ("add", "ns.deep.fn"), ("handler", "Response")} <= calls
    assert ("Widget.render", "this.paint") in calls
    assert ("Widget.render", "Panel") in calls
    assert _refs(pf, "inherits") == {("Widget", "Base")}


TS = _src(
    """
    import type { Task } from './model';

    export interface Store extends Base<Task> {
      get(id: string): Task | undefined;
    }

    export type Id = string;

    export enum Color { Red, Green }

    export abstract class FileStore implements Store, Other {
      private cache: Map<string, Task> = new Map();
      static open = async (path: string): Promise<FileStore> => new FileStore(path);
      abstract flush(): void;
      get(id: string): Task | undefined {
        return this.cache.get(id);
      }
    }
    """
)


def test_typescript_symbols_and_heritage() -> None:
    pf = parse_source("src/store.ts", TS)
    assert pf.syntax_errors == []
    assert _sym(pf, "Store").kind == "interface"
    assert _sym(pf, "Store.get").kind == "method"
    assert _sym(pf, "Id").kind == "type"
    assert _sym(pf, "Color").kind == "enum"
    file_store = _sym(pf, "FileStore")
    assert (file_store.kind, file_store.start_line, file_store.end_line) == ("class", 11, 18)
    assert file_store.signature == "abstract class FileStore implements Store, Other"
    assert _sym(pf, "FileStore.open").kind == "method"
    assert _sym(pf, "FileStore.flush").kind == "method"
    assert _sym(pf, "FileStore.get").start_line == 15
    assert _refs(pf, "inherits") == {
        ("Store", "Base"),
        ("FileStore", "Store"),
        ("FileStore", "Other"),
    }
    assert ("FileStore.get", "Task") in _refs(pf, "references")
    assert ("FileStore.open", "FileStore") in _calls(pf)
    assert pf.imports == [Import("./model", ("Task",), None, 1)]


DTS = _src(
    """
    import type { User } from "./user";

    declare module "express" {
      global {
        interface Window { app: App }
        var __DEV__: boolean;
      }
      interface Request { user?: User }
      export const version: string;
      export function json(): Handler;
    }
    declare module "*.svg";
    declare global {
      function gtag(...args: any[]): void;
      namespace NodeJS {
        interface ProcessEnv { NODE_ENV: string }
      }
    }
    declare namespace Lib {
      let level: number;
    }
    declare const VERSION: string;
    export {};
    """
)


def test_typescript_ambient_declarations_are_valid_and_scoped() -> None:
    pf = parse_source("types/env.d.ts", DTS)
    assert pf.syntax_errors == []  # `global { … }` inside a module is valid TypeScript
    express = _sym(pf, "express")
    assert (express.kind, express.start_line, express.end_line) == ("module", 3, 11)
    assert express.signature == 'declare module "express"'
    assert _sym(pf, "express.Request").parent == "express"
    assert _sym(pf, "express.version").kind == "constant"
    assert _sym(pf, "express.json").kind == "function"
    assert _sym(pf, "*.svg").kind == "module"
    # What `global { … }` declares is top-level, inside a module or not.
    for qualname, kind in [
        ("Window", "interface"),
        ("__DEV__", "constant"),
        ("gtag", "function"),
        ("NodeJS", "namespace"),
        ("NodeJS.ProcessEnv", "interface"),
        ("Lib.level", "constant"),
        ("VERSION", "constant"),
    ]:
        assert _sym(pf, qualname).kind == kind
    assert _sym(pf, "Window").parent is None
    assert _sym(pf, "VERSION").signature == "declare const VERSION: string;"
    assert ("Window", "App") in _refs(pf, "references")
    assert ("express.Request", "User") in _refs(pf, "references")


def test_exported_variable_without_value_is_a_symbol() -> None:
    pf = parse_source("src/state.ts", "export let current: number;\nlet local: number;\n")
    assert [(s.qualname, s.kind) for s in pf.symbols] == [("current", "constant")]


def test_tsx_component_use_is_a_call() -> None:
    pf = parse_source("src/view.tsx", "export const View = () => <Card.Body size={2} />;\n")
    assert ("View", "Card.Body") in _calls(pf)


GO = _src(
    """
    package server

    import (
    \t"fmt"
    \tkv "github.com/acme/kv/internal/store"
    )

    // Server answers clients.
    // It is safe for concurrent use.
    type Server struct {
    \tBase
    \tstore *kv.Store
    }

    type Handler interface {
    \tHandle(cmd string) error
    }

    // Serve runs the loop.
    func (s *Server) Serve(addr string) error {
    \ts.accept()
    \treturn kv.Open(fmt.Sprint(addr))
    }

    func New() *Server { return &Server{} }
    """
)


def test_go_symbols_methods_and_docs() -> None:
    pf = parse_source("internal/server/server.go", GO)
    assert pf.syntax_errors == []
    server = _sym(pf, "Server")
    assert (server.kind, server.start_line, server.end_line) == ("struct", 10, 13)
    assert server.docstring == "Server answers clients.\nIt is safe for concurrent use."
    assert server.signature == "type Server struct"
    assert _sym(pf, "Handler").kind == "interface"
    assert _sym(pf, "Handler.Handle").kind == "method"
    serve = _sym(pf, "Server.Serve")
    assert (serve.kind, serve.parent, serve.start_line) == ("method", "Server", 20)
    assert serve.docstring == "Serve runs the loop."
    assert serve.signature == "func (s *Server) Serve(addr string) error"
    assert _sym(pf, "New").kind == "function"


def test_go_imports_and_references() -> None:
    pf = parse_source("internal/server/server.go", GO)
    assert pf.imports == [
        Import("fmt", (), None, 4),
        Import("github.com/acme/kv/internal/store", (), "kv", 5),
    ]
    assert {("Server.Serve", "s.accept"), ("Server.Serve", "kv.Open")} <= _calls(pf)
    assert ("Server", "Base") in _refs(pf, "inherits")


RUST = _src(
    """
    use crate::net::{self, Client as C, tls::*};
    use super::util::helper;
    mod codec;

    /// A point in space.
    #[derive(Debug)]
    pub struct Point { x: i32 }

    pub trait Shape {
        fn area(&self) -> f64;
    }

    impl Shape for Point {
        /// The area.
        fn area(&self) -> f64 {
            self.scale();
            Point::origin();
            net::connect::<u8>();
            helper()
        }
    }
    """
)


def test_rust_symbols_impl_methods_and_docs() -> None:
    pf = parse_source("src/geo.rs", RUST)
    assert pf.syntax_errors == []
    point = _sym(pf, "Point")
    assert (point.kind, point.start_line, point.end_line) == ("struct", 6, 7)
    assert point.docstring == "A point in space."
    assert _sym(pf, "Shape").kind == "trait"
    assert _sym(pf, "Shape.area").kind == "method"
    area = _sym(pf, "Point.area")
    assert (area.kind, area.parent, area.docstring) == ("method", "Point", "The area.")
    assert area.signature == "fn area(&self) -> f64"


def test_rust_imports_and_references() -> None:
    pf = parse_source("src/geo.rs", RUST)
    assert pf.imports == [
        Import("crate::net", (), None, 1),
        Import("crate::net", ("Client",), "C", 1),
        Import("crate::net::tls", ("*",), None, 1),
        Import("super::util", ("helper",), None, 2),
        Import("self::codec", (), None, 3),
    ]
    calls = _calls(pf)
    assert {
        ("Point.area", "self.scale"),
        ("Point.area", "Point::origin"),
        ("Point.area", "net::connect"),
        ("Point.area", "helper"),
    } <= calls
    assert ("Point", "Shape") in _refs(pf, "inherits")


JAVA = _src(
    """
    package com.acme.app;

    import com.acme.util.Helper;
    import static com.acme.util.Maths.max;
    import java.util.*;

    /**
     * The app.
     */
    public class App extends Base implements Runnable {
        /** Builds it. */
        public App(int n) { super(); }

        @Override
        public void run() {
            Helper.go(max(1, 2));
            this.stop();
            new Helper();
        }

        interface Listener { void on(); }
    }
    """
)


def test_java_symbols_imports_and_references() -> None:
    pf = parse_source("src/main/java/com/acme/app/App.java", JAVA)
    assert pf.syntax_errors == []
    app = _sym(pf, "App")
    assert (app.kind, app.start_line, app.end_line, app.docstring) == ("class", 10, 22, "The app.")
    ctor = _sym(pf, "App.App")
    assert (ctor.kind, ctor.docstring) == ("method", "Builds it.")
    run = _sym(pf, "App.run")
    assert run.start_line == 14
    assert _sym(pf, "App.Listener").kind == "interface"
    assert _sym(pf, "App.Listener.on").kind == "method"
    assert pf.imports == [
        Import("com.acme.util", ("Helper",), None, 3),
        Import("com.acme.util.Maths", ("max",), None, 4),
        Import("java.util", ("*",), None, 5),
    ]
    assert {
        ("App.run", "Helper.go"),
        ("App.run", "max"),
        ("App.run", "this.stop"),
        ("App.run", "Helper"),
    } <= _calls(pf)
    assert _refs(pf, "inherits") == {("App", "Base"), ("App", "Runnable")}


def test_c_and_cpp() -> None:
    c = parse_source(
        "src/util.c",
        '#include "util.h"\n#include <stdio.h>\n\nint add(int a) { return twice(a); }\n',
    )
    assert _sym(c, "add").kind == "function"
    assert [i.module for i in c.imports] == ["util.h", "<stdio.h>"]
    assert ("add", "twice") in _calls(c)
    cpp = parse_source(
        "src/w.cpp",
        "namespace ns {\nclass W : public Base {\n  int get() { return 1; }\n};\n"
        "void W::set(int v) { obj.run(); }\n}\n",
    )
    assert _sym(cpp, "ns.W").kind == "class"
    assert _sym(cpp, "ns.W.get").kind == "method"
    assert _sym(cpp, "ns.W.set").kind == "method"
    assert ("ns.W", "Base") in _refs(cpp, "inherits")
    assert ("ns.W.set", "obj.run") in _calls(cpp)


def test_ruby() -> None:
    pf = parse_source(
        "lib/a.rb",
        "require_relative 'x/y'\nmodule M\n  # Does it.\n  class A < B\n"
        "    def run(x)\n      Foo::Bar.new.go(x)\n    end\n  end\nend\n",
    )
    assert _sym(pf, "M.A").docstring == "Does it."
    assert _sym(pf, "M.A.run").kind == "method"
    assert pf.imports == [Import("./x/y", (), None, 1)]
    assert ("M.A.run", "Foo::Bar.new().go") in _calls(pf)
    assert ("M.A", "B") in _refs(pf, "inherits")


MARKDOWN = _src(
    """
    Intro text.

    # Install

    Get it.

    ## Linux

    ```bash
    # not a heading
    make install
    ```

    Setext Title
    ============

    Body.
    """
)


def test_markdown_headings_become_paths_and_fences_are_not_headings() -> None:
    pf = parse_source("docs/README.md", MARKDOWN)
    assert [(s.qualname, s.start_line, s.end_line) for s in pf.symbols] == [
        ("Install", 3, 13),
        ("Install > Linux", 7, 13),
        ("Setext Title", 14, 17),
    ]
    assert _sym(pf, "Install > Linux").parent == "Install"
    assert all(c.kind == "doc" for c in pf.chunks)
    linux = [c for c in pf.chunks if "make install" in c.text]
    assert len(linux) == 1
    assert "```bash" in linux[0].text
    assert linux[0].text.count("```") == 2


def _notebook(cells: list[dict[str, object]]) -> str:
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4}, indent=1)


def test_notebook_cells_with_lines_in_the_file() -> None:
    text = _notebook(
        [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Title\n", "Some words\n"]},
            {
                "cell_type": "code",
                "metadata": {},
                "outputs": [],
                "source": [
                    "%matplotlib inline\n",
                    "import os\n",
                    "def f(x):\n",
                    "    return g(x)\n",
                ],
            },
        ]
    )
    lines = text.split("\n")
    pf = parse_source("nb/explore.ipynb", text)
    assert pf.language == "notebook"
    assert pf.syntax_errors == []
    assert [c.kind for c in pf.chunks] == ["cell", "cell"]
    code = pf.chunks[1]
    assert code.text.startswith("%matplotlib inline\nimport os")
    assert code.language == "python"
    assert lines[code.start_line - 1].strip() == '"%matplotlib inline\\n",'
    assert lines[code.end_line - 1].strip() == '"    return g(x)\\n"'
    f = _sym(pf, "f")
    assert lines[f.start_line - 1].strip() == '"def f(x):\\n",'
    assert pf.imports[0].module == "os"
    assert lines[pf.imports[0].line - 1].strip() == '"import os\\n",'
    assert pf.chunks[0].symbol == "Title"


def test_malformed_notebook_falls_back_to_text() -> None:
    pf = parse_source("nb/broken.ipynb", '{"cells": [\n  {"source": "x"\n')
    assert pf.language == "notebook"
    assert pf.chunks and all(c.kind == "text" for c in pf.chunks)
    assert pf.syntax_errors and "invalid notebook" in pf.syntax_errors[0][1]


def test_go_mod_module_path_is_a_symbol() -> None:
    pf = parse_source("go.mod", "module github.com/acme/kv\n\ngo 1.22\n")
    assert [(s.kind, s.name) for s in pf.symbols] == [("module", "github.com/acme/kv")]


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("empty.py", ""),
        ("blank.ts", "\n\n\n"),
        ("nul.py", "def f():\n    return '\x00'\n\x00\x00\x00"),
        ("huge.js", "var a=" + "1+" * 200_000 + "1;"),
        ("garbage.rs", "\x1a\x02\xff}}}{{{ fn ( impl <<<"),
        ("surrogate.go", "package x\n// \udcff\nfunc F() {}\n"),
        ("crlf.py", "def f():\r\n    return 1\r\n"),
        ("deep.py", "x = " + "(" * 5000 + ")" * 5000),
        ("bad.md", "```\nunclosed fence\n# not heading"),
        ("data.json", "{" * 3000),
        ("weird.ipynb", "[1, 2, 3]"),
    ],
    ids=lambda value: value if len(value) < 40 else None,
)
def test_never_raises_and_chunks_are_well_formed(path: str, text: str) -> None:
    pf = parse_source(path, text)
    lines = text.split("\n")
    for chunk in pf.chunks:
        assert 1 <= chunk.start_line <= chunk.end_line <= max(1, len(lines))
        assert chunk.text
    for symbol in pf.symbols:
        assert 1 <= symbol.start_line <= symbol.end_line <= len(lines)


def test_crlf_lines_are_clean() -> None:
    pf = parse_source("crlf.py", "def f():\r\n    return 1\r\n")
    assert _sym(pf, "f").signature == "def f():"
    assert "\r" not in pf.chunks[0].text


def test_huge_single_line_is_cut_into_pieces() -> None:
    text = "var a=" + "1+" * 20_000 + "1;"
    pf = parse_source("min.js", text)
    assert len(pf.chunks) > 1
    assert all(len(c.text) <= 4000 for c in pf.chunks)
    assert "".join(c.text for c in pf.chunks) == text
