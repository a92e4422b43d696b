/** Finding the server executable before starting it, so a missing one gets a clear fix. */

import * as fs from 'fs';
import * as path from 'path';

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The executable's full path, or undefined when it is not there (bare names use PATH). */
export function findExecutable(command: string, envPath: string | undefined): string | undefined {
  if (command.includes('/') || command.includes(path.sep)) {
    return isExecutable(command) ? command : undefined;
  }
  for (const dir of (envPath ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export function missingExecutableMessage(command: string): string {
  return (
    `CodeAssist: the server executable \`${command}\` was not found. ` +
    'Install CodeAssist (`./install.sh` in its repository, or `pip install` the package) ' +
    'or set `codeassist.server.path` to the full path of `codeassist`.'
  );
}

/** True when a server error is about the model (missing, damaged, unknown): its fix is a setting or an install. */
export function isModelProblem(message: string): boolean {
  return /\bmodel\b|gguf|llama\.cpp/i.test(message);
}
