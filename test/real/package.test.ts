// The npm package as a user gets it: `npm pack` (which builds through prepack), installed into an empty folder without
// dev dependencies; there the README's library example runs (require and import) on a real dump, the bin answers,
// and the type declarations type-check a consumer. Checked against SOS on the same dump.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../support/cli-runner';
import { getDump } from '../support/dumps';
import { readmeLibraryExample } from '../support/readme';
import { runSos } from '../support/sos';
import { parseClrThreads, parseDumpHeapStat } from '../support/sos-parsers';

const TIMEOUT = 10 * 60_000;
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(cmd: string, args: string[], cwd: string, timeout = 180_000): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' } });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? String(r.error ?? '') };
}

describe('the npm package', { timeout: TIMEOUT }, () => {
  let tmp: string;
  let app: string;
  let tarball: string;
  let packed: { files: { path: string; size: number }[]; unpackedSize: number; version: string };
  let dumpPath: string;

  before(async () => {
    dumpPath = (await getDump('seed-apm', { dumpType: 'heap', serverGc: false })).dumpPath;
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dumpsleuth-pack-'));
    const pack = run(NPM, ['pack', '--json', '--pack-destination', tmp], REPO_ROOT);
    assert.equal(pack.code, 0, `npm pack: ${pack.stderr}`);
    packed = (JSON.parse(pack.stdout) as (typeof packed & { filename: string })[])[0]!;
    tarball = path.join(tmp, path.basename((JSON.parse(pack.stdout) as { filename: string }[])[0]!.filename));
    app = path.join(tmp, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
    const install = run(NPM, ['install', '--omit=dev', '--prefer-offline', tarball], app);
    assert.equal(install.code, 0, `npm install of the tarball: ${install.stderr}`);
  });
  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('ships only the bundle, its types, the bin and the README: under 1.25 MB unpacked, no sourcemaps, tests or sources', () => {
    const paths = packed.files.map((f) => f.path);
    // 1 MB until issue 16 (the bundle, its declarations and the README grow with every command: 1,000,021 bytes then).
    assert.ok(packed.unpackedSize < 1_250_000, `unpacked size ${packed.unpackedSize}`);
    for (const p of paths) {
      assert.match(p, /^(bin\/dumpsleuth\.js|dist\/package\/.*\.(js|d\.ts)|README\.md|package\.json)$/, `unexpected file in the package: ${p}`);
      assert.doesNotMatch(p, /\.map$|\.tgz$/);
    }
    for (const need of ['bin/dumpsleuth.js', 'dist/package/dumpsleuth.js', 'dist/package/terminal-input-worker.js', 'dist/package/types/index.d.ts']) {
      assert.ok(paths.includes(need), `${need} is in the package`);
    }
  });

  it('installs without dev dependencies: only dumpsleuth and its runtime dependency', () => {
    const mods = fs.readdirSync(path.join(app, 'node_modules')).filter((n) => !n.startsWith('.')).sort();
    assert.deepEqual(mods, ['dumpsleuth', 'iced-x86']);
  });

  it('the README example runs with require and with import, and its numbers equal SOS', async () => {
    const example = readmeLibraryExample();
    fs.writeFileSync(path.join(app, 'example.js'), example);
    const esm = example.replace("const { openDump } = require('dumpsleuth');", "import { openDump } from 'dumpsleuth';");
    assert.notEqual(esm, example, 'the example starts with the require line');
    fs.writeFileSync(path.join(app, 'example.mjs'), esm);
    const cjs = run(process.execPath, ['example.js', dumpPath], app);
    assert.equal(cjs.code, 0, `example.js: ${cjs.stderr}`);
    const mjs = run(process.execPath, ['example.mjs', dumpPath], app);
    assert.equal(mjs.code, 0, `example.mjs: ${mjs.stderr}`);
    assert.equal(mjs.stdout, cjs.stdout, 'import and require give the same answers');
    const threads = parseClrThreads(await runSos(dumpPath, 'clrthreads'));
    const heap = parseDumpHeapStat(await runSos(dumpPath, 'dumpheap -stat'));
    const lines = cjs.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, new RegExp(`, ${threads.summary.dead} dead managed threads$`));
    const top3 = heap.types.slice(-3).reverse().map((t) => `${t.name}: ${t.count} objects, ${t.totalSize} bytes`);
    assert.deepEqual(lines.slice(1, 4), top3, 'the three largest types equal SOS dumpheap -stat');
    assert.match(lines[4]!, /^System\.Threading\.Thread 0x[0-9a-f]+: managed thread id \d+, name /);
    assert.match(cjs.stdout, /^\[error\] 25 dead threads .*; culprit: Gateway\.GatewayClientController\.OnReceive\(System\.IAsyncResult\)$/m);
  });

  it('npx dumpsleuth: --help, --version, and a command on the dump', async () => {
    const help = run('npx', ['--no-install', 'dumpsleuth', '--help'], app);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^usage: dumpsleuth /);
    // The installed bin directly (npx is checked above; each npx start costs a second).
    const bin = path.join(app, 'node_modules', '.bin', 'dumpsleuth');
    const version = run(bin, ['--version'], app);
    assert.equal(version.stdout.trim(), `dumpsleuth ${packed.version}`);
    const threads = run(bin, [dumpPath, 'clrthreads'], app);
    assert.equal(threads.code, 0, threads.stderr);
    const sos = parseClrThreads(await runSos(dumpPath, 'clrthreads'));
    assert.match(threads.stdout, new RegExp(`^DeadThread:\\s+${sos.summary.dead}$`, 'm'));
  });

  it('demo needs a checkout: in an installed package it says so in one line and writes nothing into the package', () => {
    const pkgDir = path.join(app, 'node_modules', 'dumpsleuth');
    const list = () => fs.readdirSync(pkgDir, { recursive: true }).map(String).sort();
    const before = list();
    const demo = run(path.join(app, 'node_modules', '.bin', 'dumpsleuth'), ['demo'], app);
    assert.equal(demo.code, 1, `demo exit code: ${demo.stdout}${demo.stderr}`);
    const lines = demo.stderr.split('\n').filter((l) => l.trim() !== '');
    assert.equal(lines.length, 1, `one line: ${demo.stderr}`);
    assert.match(lines[0]!, /^dumpsleuth: demo: /);
    assert.deepEqual(list(), before, 'the installed package is unchanged');
  });

  it('the type declarations type-check a TypeScript consumer (strict, node16 resolution through "exports")', () => {
    fs.writeFileSync(
      path.join(app, 'check.ts'),
      [
        "import { openDump, ClrObject, DumpsleuthError, type AnalyzeFinding } from 'dumpsleuth';",
        "const dump = openDump('core');",
        'const n: number = dump.runtime.heap.statistics()[0]!.count;',
        'const f: AnalyzeFinding[] = dump.runtime.heap.analyze({ rule: "finished-but-alive" }).findings;',
        'const o: ClrObject | null = dump.runtime.heap.getObject(1).readObjectField("x");',
        'const e: Error = new DumpsleuthError("x");',
        'export { n, f, o, e };',
        '',
      ].join('\n'),
    );
    const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    // skipLibCheck: the consumer's own code is checked against the declarations, as most projects build.
    const r = run(process.execPath, [tsc, '--noEmit', '--strict', '--skipLibCheck', '--module', 'node16', '--moduleResolution', 'node16', '--types', 'node', '--typeRoots', path.join(REPO_ROOT, 'node_modules', '@types'), 'check.ts'], app);
    assert.equal(r.code, 0, `tsc on a consumer: ${r.stdout}${r.stderr}`);
  });
});
