"""Graph resolution across files for each language, and the graph helpers."""

from __future__ import annotations

import textwrap

from codeassist_lsp.index.graph_build import (
    build_graph,
    graph_from_edges,
    graph_nodes,
    resolve_edges,
)
from codeassist_lsp.index.model import Edge, ParsedFile, file_node, symbol_node
from codeassist_lsp.index.parse import parse_source
from codeassist_lsp.index.resolve import Workspace, resolve_references


def _workspace(files: dict[str, str]) -> list[ParsedFile]:
    return [parse_source(path, textwrap.dedent(text).lstrip("\n")) for path, text in files.items()]


def _edges(files: list[ParsedFile]) -> set[tuple[str, str, str]]:
    return {(e.source, e.target, e.kind) for e in resolve_edges(files)}


def _sym(path: str, qualname: str) -> str:
    return symbol_node(path, qualname)


PYTHON = {
    "app/__init__.py": """
        from .core import Engine
        from .util import *
        """,
    "app/core.py": """
        import app.util as u
        from app import helpers
        from .base import Base


        class Engine(Base):
            def execute(self):
                self.prepare()
                self.shared()
                u.tidy()
                helpers.assist()
                return clean()

            def prepare(self):
                super().prepare()


        def clean():
            return 1
        """,
    "app/base.py": """
        class Base:
            def prepare(self):
                pass

            def shared(self):
                pass
        """,
    "app/util.py": """
        def tidy():
            pass

        def polish():
            pass
        """,
    "app/helpers.py": """
        def assist():
            pass
        """,
    "main.py": """
        import os
        from app import Engine, polish

        def main():
            engine = Engine()
            engine.execute()
            polish()
            os.getcwd()
            unknown_thing()
            duplicated()

        def duplicated():
            pass
        """,
    "other.py": """
        def duplicated():
            pass
        """,
}


def test_python_structure_edges() -> None:
    edges = _edges(_workspace(PYTHON))
    assert (file_node("app/core.py"), _sym("app/core.py", "Engine"), "defines") in edges
    assert (
        _sym("app/core.py", "Engine"),
        _sym("app/core.py", "Engine.execute"),
        "contains",
    ) in edges
    assert (file_node("app/core.py"), _sym("app/core.py", "Engine.execute"), "defines") not in edges


def test_python_imports_resolve_to_files() -> None:
    edges = _edges(_workspace(PYTHON))
    imports = {(s, t) for s, t, k in edges if k == "imports"}
    assert (file_node("app/core.py"), file_node("app/util.py")) in imports
    assert (file_node("app/core.py"), file_node("app/helpers.py")) in imports
    assert (file_node("app/core.py"), file_node("app/base.py")) in imports
    assert (file_node("main.py"), file_node("app/__init__.py")) in imports
    assert (file_node("app/__init__.py"), file_node("app/core.py")) in imports
    assert not any(t == file_node("os") for _, t in imports)


def test_python_calls_resolve_in_order_of_scope() -> None:
    edges = _edges(_workspace(PYTHON))
    run = _sym("app/core.py", "Engine.execute")
    calls = {t for s, t, k in edges if s == run and k == "calls"}
    assert calls == {
        _sym("app/core.py", "Engine.prepare"),
        _sym("app/base.py", "Base.shared"),
        _sym("app/util.py", "tidy"),
        _sym("app/helpers.py", "assist"),
        _sym("app/core.py", "clean"),
    }
    prepare = _sym("app/core.py", "Engine.prepare")
    assert (prepare, _sym("app/base.py", "Base.prepare"), "calls") in edges
    assert (_sym("app/core.py", "Engine"), _sym("app/base.py", "Base"), "inherits") in edges


def test_python_reexports_and_ambiguity() -> None:
    edges = _edges(_workspace(PYTHON))
    main = _sym("main.py", "main")
    calls = {t for s, t, k in edges if s == main and k == "calls"}
    assert _sym("app/core.py", "Engine") in calls
    assert _sym("app/util.py", "polish") in calls
    assert _sym("app/core.py", "Engine.execute") in calls
    assert _sym("main.py", "duplicated") in calls
    assert _sym("other.py", "duplicated") not in calls
    assert not any("getcwd" in t or "unknown_thing" in t for t in calls)


def test_resolved_references_keep_lines_and_how() -> None:
    resolved = resolve_references(_workspace(PYTHON), paths={"main.py"})
    assert {r.path for r in resolved} == {"main.py"}
    polish = next(r for r in resolved if r.target == _sym("app/util.py", "polish"))
    assert (polish.line, polish.kind, polish.how) == (7, "calls", "import")


def test_workspace_wide_guess_needs_a_unique_name_or_a_telling_receiver() -> None:
    files = _workspace(
        {
            "store.py": """
                class Store:
                    def load_snapshot(self):
                        pass
                """,
            "cache.py": """
                class Cache:
                    def load_snapshot(self):
                        pass
                """,
            "run.py": """
                def run(st, thing):
                    st.load_snapshot()
                    thing.load_snapshot()
                    make().load_snapshot()
                """,
        }
    )
    resolved = {(r.line, r.target, r.how) for r in resolve_references(files)}
    assert (2, _sym("store.py", "Store.load_snapshot"), "global") in resolved
    assert not any(line in (3, 4) for line, _, _ in resolved)


TYPESCRIPT = {
    "src/models/index.ts": """
        export { Task } from './task';
        export * from './user';
        """,
    "src/models/task.ts": """
        export class Task {
          done(): boolean { return true; }
        }
        """,
    "src/models/user.ts": """
        export function makeUser() { return 1; }
        """,
    "src/service.ts": """
        import { Task, makeUser } from './models';
        import * as dates from './utils/dates.js';
        import Router from './router';
        import express from 'express';

        export class Service extends Base {
          run(): void {
            const t = new Task();
            makeUser();
            dates.format(t);
            this.stop();
            new Router().add();
            express();
          }
          stop(): void {}
        }
        """,
    "src/utils/dates.ts": """
        export function format(x: unknown) { return String(x); }
        """,
    "src/router.ts": """
        export default class Router {
          add() { return this; }
        }
        """,
}


def test_typescript_resolution() -> None:
    edges = _edges(_workspace(TYPESCRIPT))
    imports = {(s, t) for s, t, k in edges if k == "imports"}
    assert (file_node("src/service.ts"), file_node("src/models/index.ts")) in imports
    assert (file_node("src/service.ts"), file_node("src/utils/dates.ts")) in imports
    assert (file_node("src/models/index.ts"), file_node("src/models/user.ts")) in imports
    run = _sym("src/service.ts", "Service.run")
    calls = {t for s, t, k in edges if s == run and k == "calls"}
    assert calls == {
        _sym("src/models/task.ts", "Task"),
        _sym("src/models/user.ts", "makeUser"),
        _sym("src/utils/dates.ts", "format"),
        _sym("src/service.ts", "Service.stop"),
        _sym("src/router.ts", "Router"),
        _sym("src/router.ts", "Router.add"),
    }


GO = {
    "go.mod": "module github.com/acme/kv\n\ngo 1.22\n",
    "internal/store/store.go": """
        package store

        type Store struct{}

        func New() *Store { return &Store{} }

        func (s *Store) Get(key string) string {
            return s.lookup(key)
        }
        """,
    "internal/store/lookup.go": """
        package store

        func (s *Store) lookup(key string) string { return normalize(key) }

        func normalize(k string) string { return k }
        """,
    "cmd/main.go": """
        package main

        import (
            "fmt"
            kv "github.com/acme/kv/internal/store"
        )

        func main() {
            st := kv.New()
            fmt.Println(st.Get("a"))
        }
        """,
}


def test_go_packages_receivers_and_module_path() -> None:
    edges = _edges(_workspace(GO))
    main = _sym("cmd/main.go", "main")
    assert (file_node("cmd/main.go"), file_node("internal/store/store.go"), "imports") in edges
    assert (file_node("cmd/main.go"), file_node("internal/store/lookup.go"), "imports") in edges
    assert (main, _sym("internal/store/store.go", "New"), "calls") in edges
    assert (main, _sym("internal/store/store.go", "Store.Get"), "calls") in edges
    get = _sym("internal/store/store.go", "Store.Get")
    assert (get, _sym("internal/store/lookup.go", "Store.lookup"), "calls") in edges
    lookup = _sym("internal/store/lookup.go", "Store.lookup")
    assert (lookup, _sym("internal/store/lookup.go", "normalize"), "calls") in edges
    store = _sym("internal/store/store.go", "Store")
    assert (store, lookup, "contains") in edges


RUST = {
    "src/lib.rs": """
        mod net;
        pub mod geo;

        use crate::net::connect;

        pub fn start() {
            connect();
            geo::Point::origin();
            crate::net::close();
        }
        """,
    "src/net.rs": """
        pub fn connect() {}
        pub fn close() {}
        """,
    "src/geo/mod.rs": """
        pub struct Point;

        impl Point {
            pub fn origin() -> Self { Self::make() }
            fn make() -> Self { Point }
            pub fn len(&self) -> f64 { self.norm() }
            fn norm(&self) -> f64 { super::net::helper() }
        }
        """,
}


def test_rust_modules_and_impls() -> None:
    edges = _edges(_workspace(RUST))
    imports = {(s, t) for s, t, k in edges if k == "imports"}
    assert (file_node("src/lib.rs"), file_node("src/net.rs")) in imports
    assert (file_node("src/lib.rs"), file_node("src/geo/mod.rs")) in imports
    start = _sym("src/lib.rs", "start")
    calls = {t for s, t, k in edges if s == start and k == "calls"}
    assert calls == {
        _sym("src/net.rs", "connect"),
        _sym("src/geo/mod.rs", "Point.origin"),
        _sym("src/net.rs", "close"),
    }
    origin = _sym("src/geo/mod.rs", "Point.origin")
    assert (origin, _sym("src/geo/mod.rs", "Point.make"), "calls") in edges
    length = _sym("src/geo/mod.rs", "Point.len")
    assert (length, _sym("src/geo/mod.rs", "Point.norm"), "calls") in edges
    assert (_sym("src/geo/mod.rs", "Point"), origin, "contains") in edges


JAVA = {
    "src/main/java/com/acme/util/Helper.java": """
        package com.acme.util;
        public class Helper {
            public static int go(int x) { return twice(x); }
            static int twice(int x) { return x * 2; }
        }
        """,
    "src/main/java/com/acme/app/App.java": """
        package com.acme.app;
        import com.acme.util.Helper;
        public class App {
            public void run() { Helper.go(1); local(); Sibling.help(); }
            void local() {}
        }
        """,
    "src/main/java/com/acme/app/Sibling.java": """
        package com.acme.app;
        public class Sibling { static void help() {} }
        """,
}


def test_java_imports_same_package_and_implicit_this() -> None:
    edges = _edges(_workspace(JAVA))
    app = "src/main/java/com/acme/app/App.java"
    helper = "src/main/java/com/acme/util/Helper.java"
    assert (file_node(app), file_node(helper), "imports") in edges
    run = _sym(app, "App.run")
    calls = {t for s, t, k in edges if s == run and k == "calls"}
    assert calls == {
        _sym(helper, "Helper.go"),
        _sym(app, "App.local"),
        _sym("src/main/java/com/acme/app/Sibling.java", "Sibling.help"),
    }
    assert (_sym(helper, "Helper.go"), _sym(helper, "Helper.twice"), "calls") in edges


def test_languages_do_not_resolve_into_each_other() -> None:
    files = _workspace(
        {
            "a.py": "def call_it():\n    shared_helper()\n",
            "b.ts": "export function shared_helper() {}\n",
        }
    )
    assert not [e for e in resolve_edges(files) if e.kind == "calls"]


def test_graph_from_stored_edges_matches_build_graph() -> None:
    files = _workspace(PYTHON)
    edges = resolve_edges(files)
    stored = [Edge(e.source, e.target, e.kind) for e in edges]
    rebuilt = graph_from_edges(stored + stored, graph_nodes(files))
    built = build_graph(files)
    assert sorted(rebuilt.edges()) == sorted(built.edges())
    assert rebuilt.number_of_nodes() == built.number_of_nodes()


def test_resolve_edges_for_some_paths_only() -> None:
    files = _workspace(PYTHON)
    edges = resolve_edges(files, paths={"main.py"})
    assert edges
    assert all(e.source.startswith(("file:main.py", "sym:main.py::")) for e in edges)


def test_workspace_export_survives_import_cycles() -> None:
    files = _workspace(
        {
            "a.py": "from b import *\n",
            "b.py": "from a import *\n",
            "c.py": "from a import nothing\n\ndef f():\n    nothing()\n",
        }
    )
    workspace = Workspace(files)
    assert workspace.export("a.py", "nothing") is None
    assert not [e for e in resolve_edges(files) if e.kind == "calls"]


def test_namespace_package_and_notebook_imports() -> None:
    notebook = (
        '{"cells": [{"cell_type": "code", "source": ["from tools import shapes\\n",'
        ' "shapes.area(1)\\n"]}]}'
    )
    files = _workspace(
        {
            "tools/shapes.py": "def area(r):\n    return r\n",
            "tools/run.py": "from . import shapes\n\ndef go():\n    shapes.area(2)\n",
            "analysis.ipynb": notebook,
        }
    )
    edges = _edges(files)
    area = _sym("tools/shapes.py", "area")
    assert (_sym("tools/run.py", "go"), area, "calls") in edges
    assert (file_node("analysis.ipynb"), area, "calls") in edges
    assert (file_node("analysis.ipynb"), file_node("tools/shapes.py"), "imports") in edges


def test_overloads_and_setters_are_one_node_with_every_range() -> None:
    files = _workspace(
        {
            "types/global.d.ts": """
                declare function gtag(kind: "config", id: string): void;
                declare function gtag(kind: "event", name: string): void;
            """,
            "web/app.ts": """
                export function track(name: string) {
                  gtag("event", name);
                }
            """,
            "box.py": """
                class Box:
                    @property
                    def size(self):
                        return self._size

                    @size.setter
                    def size(self, value):
                        self._size = value
            """,
            "Repo.java": """
                class Repo {
                    void save(int id) { }
                    void save(String name) { }
                }
            """,
            "Service.java": """
                class Service {
                    void run(Repo repo) { repo.save(1); }
                }
            """,
        }
    )
    graph = build_graph(files)
    gtag = _sym("types/global.d.ts", "gtag")
    save = _sym("Repo.java", "Repo.save")
    size = _sym("box.py", "Box.size")
    # Two definitions of one name are not an ambiguous name: calls still resolve.
    assert (_sym("web/app.ts", "track"), gtag, "calls") in set(graph.edges())
    assert (_sym("Service.java", "Service.run"), save, "calls") in set(graph.edges())
    assert graph.nodes[gtag]["ranges"] == [(1, 1), (2, 2)]
    assert graph.nodes[size]["ranges"] == [(2, 4), (6, 8)]
    assert (graph.nodes[size]["start_line"], graph.nodes[size]["end_line"]) == (2, 4)
