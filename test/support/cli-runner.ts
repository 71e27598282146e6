// Runs the real `dumpsleuth` command (bin/dumpsleuth.js over the tsc output in dist/) as a child process, the way a
// user or a script runs it, so the CLI tests see exactly what reaches stdout, stderr and the exit code.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The checkout's root (this file runs from dist/test/support). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/** The command's entry point. */
export const CLI_PATH = path.join(REPO_ROOT, 'bin', 'dumpsleuth.js');

/** How long one CLI run may take before it is killed and reported as hung. */
export const CLI_TIMEOUT_MS = 30_000;

/** What one run of the CLI produced. */
export interface CliRun {
  /** Exit code, or null when the process was killed by a signal. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** True when the run exceeded its timeout and was killed. */
  readonly timedOut: boolean;
  readonly elapsedMs: number;
}

/** Options of a CLI run. */
export interface CliOptions {
  /** Environment of the child (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
  /** Kill the child after this many milliseconds (default CLI_TIMEOUT_MS). */
  readonly timeoutMs?: number;
  /** Text written to the child's stdin before it is closed (runCli; default empty, so a REPL ends at once). */
  readonly input?: string;
  /** Close our end of stdout at once, as a reader that stops early would (`dumpsleuth ... | head -0`). */
  readonly closeStdout?: boolean;
}

/** A running CLI process the test talks to through its stdin. */
export interface CliProcess {
  readonly pid: number;
  /** Writes to the child's stdin. */
  write(text: string): void;
  /** Closes the child's stdin. */
  end(): void;
  /** Resolves once stdout matches `pattern`; rejects when the process ends first. */
  waitForStdout(pattern: RegExp): Promise<void>;
  /** Settles when the process has exited. */
  readonly done: Promise<CliRun>;
}

/** Starts `node bin/dumpsleuth.js ...args` from the repository root with piped stdio. */
export function startCli(args: readonly string[], options: CliOptions = {}): CliProcess {
  const started = Date.now();
  const child = spawn(process.execPath, [CLI_PATH, ...args], { cwd: REPO_ROOT, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  const waiters: { pattern: RegExp; resolve: () => void; reject: (e: Error) => void }[] = [];
  child.stdin.on('error', () => undefined);
  if (options.closeStdout === true) child.stdout.destroy();
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk;
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i]!.pattern.test(stdout)) waiters.splice(i, 1)[0]!.resolve();
    }
  });
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs ?? CLI_TIMEOUT_MS);
  const done = new Promise<CliRun>((resolve, reject) => {
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      for (const w of waiters.splice(0)) w.reject(new Error(`dumpsleuth ${args.join(' ')} exited before printing ${w.pattern}; stdout:\n${stdout}\nstderr:\n${stderr}`));
      resolve({ code, signal, stdout, stderr, timedOut, elapsedMs: Date.now() - started });
    });
  });
  return {
    pid: child.pid ?? -1,
    write: (text) => child.stdin.write(text),
    end: () => child.stdin.end(),
    waitForStdout: (pattern) =>
      pattern.test(stdout) ? Promise.resolve() : new Promise<void>((resolve, reject) => waiters.push({ pattern, resolve, reject })),
    done,
  };
}

/** Runs the CLI to completion with `options.input` on its stdin (empty by default, so a REPL ends at once). */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  const cli = startCli(args, options);
  cli.write(options.input ?? '');
  cli.end();
  return cli.done;
}

/** Asserts that neither stdout nor stderr of `run` holds a stack-trace frame. */
export function assertNoStackTrace(run: CliRun, label: string): void {
  assert.ok(!hasStackTrace(run.stderr), `${label}: no stack trace on stderr:\n${run.stderr}`);
  assert.ok(!hasStackTrace(run.stdout), `${label}: no stack trace on stdout:\n${run.stdout}`);
}

/** Asserts that `run` failed the way bad input must (finished, non-zero exit, no stack trace, exactly one
 * `dumpsleuth: ` line on stderr that is not an internal error) and returns that line. */
export function assertOneErrorLine(run: CliRun, label: string): string {
  assert.equal(run.timedOut, false, `${label}: finished within its timeout`);
  assertNoStackTrace(run, label);
  const lines = linesOf(run.stderr);
  assert.equal(lines.length, 1, `${label}: exactly one line on stderr, got:\n${run.stderr}`);
  const line = lines[0]!;
  assert.match(line, /^dumpsleuth: /, `${label}: the line starts with "dumpsleuth: "`);
  assert.doesNotMatch(line, /internal error/, `${label}: a known error, not an internal one`);
  assert.ok(run.code !== null && run.code !== 0, `${label}: non-zero exit code (got ${run.code}, signal ${run.signal})`);
  return line;
}

/** Size and modification time of a file, to show a run left it untouched. */
export function fileStamp(file: string): { size: number; mtimeMs: number } {
  const st = fs.statSync(file);
  return { size: st.size, mtimeMs: st.mtimeMs };
}

/** Non-empty lines of `text`. */
export function linesOf(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '');
}

/** True when `text` holds a JavaScript stack-trace frame. */
export function hasStackTrace(text: string): boolean {
  return /^\s+at /m.test(text);
}

/** One file descriptor of a live process. */
export interface OpenFile {
  readonly fd: number;
  /** What /proc/<pid>/fd/<fd> points at (a path, or e.g. "pipe:[123]"). */
  readonly target: string;
  /** open(2) flags from /proc/<pid>/fdinfo (O_ACCMODE is `flags % 4`: 0 read-only, 1 write-only, 2 read-write). */
  readonly flags: number;
}

/** The open file descriptors of process `pid` (Linux /proc); descriptors closed while listing are left out. */
export function openFilesOf(pid: number): OpenFile[] {
  const out: OpenFile[] = [];
  for (const name of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = fs.readlinkSync(`/proc/${pid}/fd/${name}`);
      const info = fs.readFileSync(`/proc/${pid}/fdinfo/${name}`, 'utf8');
      const match = /^flags:\s*([0-7]+)$/m.exec(info);
      if (match !== null) out.push({ fd: Number(name), target, flags: parseInt(match[1]!, 8) });
    } catch {
      // The descriptor was closed between readdir and readlink.
    }
  }
  return out;
}
