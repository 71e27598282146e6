// The light V8 settings of short commands (src/cli/light-command.ts): which command lines get them, and that
// bin/dumpsleuth.js starts with the same flags the CLI module names.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { COMMANDS } from '../../src/cli/commands';
import { isLightCommand, LIGHT_V8_FLAGS } from '../../src/cli/light-command';

test('light commands are commands of the table; the heap-sized ones are not light', () => {
  const names = COMMANDS.flatMap((c) => [c.name, ...c.aliases]);
  const light = names.filter((n) => isLightCommand(n));
  for (const n of ['dumpobj', 'do', 'dumpmt', 'dumpmd', 'ip2md', 'dumpdelegate', 'dumparray', 'gcwhere', 'info', 'clrthreads']) assert.ok(light.includes(n), n);
  assert.ok(isLightCommand('!DumpObj'));
  for (const n of ['dumpheap', 'gcroot', 'analyze', 'retained', 'dominators', 'objsize', 'verifyheap', 'dumpheap', 'gchandles', 'u']) assert.equal(isLightCommand(n), false, n);
  assert.equal(isLightCommand('no-such-command'), false);
});

test('bin/dumpsleuth.js starts with the light flags of src/cli/light-command.ts', () => {
  const bin = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'bin', 'dumpsleuth.js'), 'utf8');
  for (const f of LIGHT_V8_FLAGS) assert.ok(bin.includes(`'${f}'`), f);
});
