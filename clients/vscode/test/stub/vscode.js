// A small stand-in for the `vscode` module: just what the unit-tested modules touch.
'use strict';

class Position {
  constructor(line, character) {
    this.line = line;
    this.character = character;
  }
}

class Range {
  constructor(a, b, c, d) {
    if (typeof a === 'number') {
      this.start = new Position(a, b);
      this.end = new Position(c, d);
    } else {
      this.start = a;
      this.end = b;
    }
  }
  get isEmpty() {
    return this.start.line === this.end.line && this.start.character === this.end.character;
  }
}

class Selection extends Range {}

class CodeActionKind {
  constructor(value) {
    this.value = value;
  }
}
CodeActionKind.QuickFix = new CodeActionKind('quickfix');
CodeActionKind.RefactorRewrite = new CodeActionKind('refactor.rewrite');

class CodeAction {
  constructor(title, kind) {
    this.title = title;
    this.kind = kind;
  }
}

class Uri {
  constructor(scheme, path) {
    this.scheme = scheme;
    this.path = path;
  }
  static parse(text) {
    const match = /^([a-z-]+):(?:\/\/)?(.*)$/.exec(text);
    return new Uri(match ? match[1] : 'file', match ? match[2] : text);
  }
  static file(path) {
    return new Uri('file', path);
  }
  toString() {
    return `${this.scheme}://${this.path}`;
  }
}

const state = { workspaceRoot: '/ws' };

module.exports = {
  Position,
  Range,
  Selection,
  CodeAction,
  CodeActionKind,
  Uri,
  ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
  __state: state,
  workspace: {
    asRelativePath(uri) {
      const path = typeof uri === 'string' ? uri : uri.path;
      return path.startsWith(state.workspaceRoot + '/') ? path.slice(state.workspaceRoot.length + 1) : path;
    },
  },
  window: {},
  commands: {},
  env: {},
};
