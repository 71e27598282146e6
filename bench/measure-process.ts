// Runs one child process to completion and measures its wall time, CPU time and peak resident set size, with no extra
// packages: GNU time's %M (and %U + %S) (the kernel's ru_maxrss from wait4, exact, covers waited-for descendants) when
// /usr/bin/time exists, else polling VmHWM in /proc/<pid>/status for the process and its descendants.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** How peak RSS is measured: `time` (GNU time's %M) or `poll` (VmHWM of the process tree, sampled). */
export type RssMethod = 'time' | 'poll';

/** One finished child process: how long it ran, its peak RSS, how it ended and what it printed. */
export interface MeasuredRun {
  /** From spawn to exit, in milliseconds (includes the child's runtime start-up). */
  readonly wallMs: number;
  /** The largest resident set of any one process of the tree, in bytes. */
  readonly peakRssBytes: number;
  /** User + system CPU time of the process and its waited-for children (GNU time's %U + %S), in milliseconds;
   * undefined without /usr/bin/time. On a shared machine it varies far less than the wall time. */
  readonly cpuMs?: number;
  readonly rssMethod: RssMethod;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link measureProcess}. */
export interface MeasureOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Killed (SIGKILL) after this long; default 15 minutes. */
  readonly timeoutMs?: number;
  /** Default: {@link defaultRssMethod}. */
  readonly rssMethod?: RssMethod;
  /** Written to the child's stdin (then closed); without it stdin is /dev/null. */
  readonly stdin?: string;
}

const GNU_TIME = '/usr/bin/time';
const POLL_MS = 5;

/** `time` when /usr/bin/time exists, else `poll`. */
export function defaultRssMethod(): RssMethod {
  return fs.existsSync(GNU_TIME) ? 'time' : 'poll';
}

/** Runs `command args` (no shell), collecting its output; rejects only when it cannot be started or times out. */
export function measureProcess(command: string, args: readonly string[], options: MeasureOptions = {}): Promise<MeasuredRun> {
  const rssMethod = options.rssMethod ?? defaultRssMethod();
  const timeFile = rssMethod === 'time' ? path.join(os.tmpdir(), `dumpsleuth-bench-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.time`) : '';
  const [exe, argv] = rssMethod === 'time' ? [GNU_TIME, ['-f', '%M %U %S', '-o', timeFile, command, ...args]] : [command, [...args]];
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(exe, argv, { cwd: options.cwd, env: options.env ?? process.env, stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (options.stdin !== undefined && child.stdin !== null) {
      child.stdin.on('error', () => undefined); // a child that exits early closes the pipe
      child.stdin.end(options.stdin);
    }
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const sampler = rssMethod === 'poll' && child.pid !== undefined ? new TreeRssSampler(child.pid) : undefined;
    const poll = sampler === undefined ? undefined : setInterval(() => sampler.sample(), POLL_MS);
    let exitedAt: bigint | undefined;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 15 * 60_000);
    const stop = (): void => {
      clearTimeout(timer);
      if (poll !== undefined) clearInterval(poll);
    };
    child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('exit', () => {
      exitedAt = process.hrtime.bigint();
    });
    child.on('error', (error) => {
      stop();
      reject(new Error(`cannot run ${command}: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      stop();
      const wallMs = Number((exitedAt ?? process.hrtime.bigint()) - started) / 1e6;
      if (timedOut) {
        reject(new Error(`${command} ${args.join(' ')} timed out after ${options.timeoutMs ?? 15 * 60_000} ms`));
        return;
      }
      let peakRssBytes = 0;
      let cpuMs: number | undefined;
      if (rssMethod === 'time') {
        ({ peakRssBytes, cpuMs } = readTimeFile(timeFile));
        fs.rmSync(timeFile, { force: true });
      } else if (sampler !== undefined) {
        peakRssBytes = sampler.peakBytes;
      }
      resolve({
        wallMs,
        peakRssBytes,
        ...(cpuMs !== undefined ? { cpuMs } : {}),
        rssMethod,
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
  });
}

// GNU time writes "Command exited with non-zero status N" before the format line when the command fails.
function readTimeFile(file: string): { peakRssBytes: number; cpuMs?: number } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return { peakRssBytes: 0 };
  }
  const [kib, user, system] = (text.trim().split('\n').pop() ?? '').trim().split(/\s+/).map(Number);
  const peakRssBytes = kib !== undefined && Number.isFinite(kib) ? kib * 1024 : 0;
  return user !== undefined && system !== undefined && Number.isFinite(user + system) ? { peakRssBytes, cpuMs: (user + system) * 1000 } : { peakRssBytes };
}

/** Samples VmHWM (the kernel's per-process RSS high-water mark) of a process and its descendants. */
class TreeRssSampler {
  private readonly peaks = new Map<number, number>();

  constructor(private readonly rootPid: number) {
    this.sample();
  }

  /** The largest high-water mark seen for any one process of the tree, in bytes. */
  get peakBytes(): number {
    let max = 0;
    for (const value of this.peaks.values()) max = Math.max(max, value);
    return max;
  }

  /** Reads the tree's current high-water marks (processes that are gone are skipped). */
  sample(): void {
    const pending = [this.rootPid];
    const seen = new Set<number>();
    while (pending.length > 0) {
      const pid = pending.pop() as number;
      if (seen.has(pid)) continue;
      seen.add(pid);
      const hwm = readVmHwm(pid);
      if (hwm !== undefined) this.peaks.set(pid, Math.max(this.peaks.get(pid) ?? 0, hwm));
      pending.push(...readChildren(pid));
    }
  }
}

function readVmHwm(pid: number): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

function readChildren(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      const text = fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text !== '') for (const child of text.split(/\s+/)) out.push(Number(child));
    }
  } catch {
    // The process exited between the reads.
  }
  return out;
}
