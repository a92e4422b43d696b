// Loads the compiled extension modules (out/) with `vscode` resolved to the stub.
'use strict';

const Module = require('node:module');
const path = require('node:path');

const stub = path.join(__dirname, 'stub', 'vscode.js');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 'vscode') return stub;
  return resolve.call(this, request, ...rest);
};

const out = path.join(__dirname, '..', 'out');
module.exports = {
  load: (name) => require(path.join(out, name)),
  vscode: require(stub),
  packageJson: require(path.join(__dirname, '..', 'package.json')),
};
