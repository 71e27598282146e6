// Ctrl-C at the interactive prompt on a real terminal (issue 7): it cancels the running command while the main thread
// is busy in a synchronous heap walk, keeps the session (a later command answers, a cancelled cache build is redone
// and gives the one-shot answer), drops what was typed ahead of it, abandons a half-typed line at the prompt, and
// `exit` still ends the session with 0. The prompt runs under a real pseudo-terminal made by util-linux `script`.
//
// The `many` test dump is walked in well under a second, too fast to press Ctrl-C in the middle of; the hidden
// DUMPSLEUTH_TEST_SAFE_POINT_DELAY_MS makes each safe point (one per 8 MiB of heap) sleep first, so a walk lasts
// seconds. The walk, the safe point, the Ctrl-C byte and its path to the main thread are the product's own.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { before, describe, it } from 'node:test';
import { CLI_PATH, REPO_ROOT, runCli } from '../support/cli-runner';
import { getDump, MANY_TEST_COUNT } from '../support/dumps';

const TIMEOUT = 10 * 60_000;
/** Per safe point; the test dump's heap is about 11 MiB, so one walk takes a few seconds. */
const SAFE_POINT_DELAY_MS = 500;
/** How long any one expected piece of output may take to appear. */
const WAIT_MS = 60_000;
const CTRL_C = '\x03';

/** Why this machine cannot run the test, or undefined when it can. */
function noPseudoTerminal(): string | undefined {
  if (process.platform !== 'linux') return `needs Linux (util-linux script), not ${process.platform}`;
  const probe = spawnSync('script', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0 || !/util-linux/.test(probe.stdout + probe.stderr)) {
    return 'needs util-linux `script` to make a pseudo-terminal, and it is not installed';
  }
  return undefined;
}

/**
 * What a terminal would show for `output`, one string per line: carriage return, erase-line (ESC [ K), erase-below
 * (ESC [ J) and cursor-to-column (ESC [ n G) are applied, other escapes dropped. Enough for readline's prompt and the
 * progress line, which both redraw a line in place.
 */
function render(output: string): string {
  const lines: string[] = [];
  let line: string[] = [];
  let col = 0;
  // eslint-disable-next-line no-control-regex
  const token = /\x1b\[([0-9;?]*)([A-Za-z])|\x1b\][^\x07]*\x07|\r|\n|[^\x1b\r\n]/g;
  let m: RegExpExecArray | null;
  while ((m = token.exec(output)) !== null) {
    const t = m[0];
    if (t === '\n') {
      lines.push(line.join(''));
      line = [];
      col = 0;
    } else if (t === '\r') col = 0;
    else if (m[2] === 'K' || m[2] === 'J') line.length = Math.min(line.length, col);
    else if (m[2] === 'G') col = Math.max(0, Number(m[1] || '1') - 1);
    else if (m[2] === undefined && !t.startsWith('\x1b')) {
      while (line.length < col) line.push(' ');
      line[col++] = t;
    }
  }
  lines.push(line.join(''));
  return lines.join('\n');
}

/** The CLI on a pseudo-terminal: keys go in through `script`'s stdin, the screen comes back through its stdout. */
class TerminalSession {
  private readonly child: ChildProcessWithoutNullStreams;
  private raw = '';
  private readonly waiters: (() => void)[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: readonly string[], env: NodeJS.ProcessEnv) {
    const command = ['exec', process.execPath, CLI_PATH, ...args].map(shellQuote).join(' ');
    // -q no banner, -f flush at once, -e exit with the child's code, -c the command; the typescript file is discarded.
    this.child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdin.on('error', () => undefined);
    this.child.stdout.setEncoding('utf8');
    this.child.stderr.setEncoding('utf8');
    const grow = (chunk: string): void => {
      this.raw += chunk;
      for (const w of this.waiters.splice(0)) w();
    };
    this.child.stdout.on('data', grow);
    this.child.stderr.on('data', grow);
    this.exited = new Promise((resolve) =>
      this.child.on('close', (code, signal) => {
        resolve({ code, signal });
        for (const w of this.waiters.splice(0)) w();
      }),
    );
  }

  /** Everything shown so far, as the terminal shows it. */
  get screen(): string {
    return render(this.raw);
  }

  /** Types `keys`. */
  type(keys: string): void {
    this.child.stdin.write(keys);
  }

  /** Waits for `pattern` on the screen at or after `from` and resolves to the start of the line where the match ends
   * (a line redrawn in place, like the progress line, may still change); fails after WAIT_MS or when the session
   * ends first, showing the screen. */
  async waitFor(pattern: RegExp, from: number, what: string): Promise<number> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const screen = this.screen;
      const m = pattern.exec(screen.slice(from));
      if (m) return screen.lastIndexOf('\n', from + m.index + m[0].length - 1) + 1;
      if (this.child.exitCode !== null || this.child.signalCode !== null) assert.fail(`the session ended before ${what}; screen:\n${screen}`);
      const left = deadline - Date.now();
      if (left <= 0) assert.fail(`${what}: not shown within ${WAIT_MS} ms; screen:\n${screen}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1000));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Resolves to how the session ended; fails after WAIT_MS. */
  async exit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), WAIT_MS)));
    const result = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (result === 'late') assert.fail(`the session did not end within ${WAIT_MS} ms; screen:\n${this.screen}`);
    return result;
  }

  /** Ends `script` (and so the CLI, whose terminal goes away) if it still runs. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The prompt at the end of the screen: what the user sees when the session waits for a line. */
const PROMPT = /\n> $/;
/** The histogram's last line. */
const TOTAL = /^Total ([\d,]+) objects, ([\d,]+) bytes$/m;

const skip = noPseudoTerminal();

describe('Ctrl-C at the interactive prompt', { timeout: TIMEOUT, skip }, () => {
  let dumpPath: string;
  let oneShotTotal: string;
  let oneShotThreadCount: string;

  before(async () => {
    dumpPath = (await getDump('many', { args: [String(MANY_TEST_COUNT)] })).dumpPath;
    const [heap, threads] = await Promise.all([runCli([dumpPath, 'dumpheap', '-stat', '-live']), runCli([dumpPath, 'clrthreads'])]);
    assert.equal(heap.code, 0, `one-shot dumpheap -stat -live: ${heap.stderr}`);
    assert.equal(threads.code, 0, `one-shot threads: ${threads.stderr}`);
    oneShotTotal = TOTAL.exec(heap.stdout)?.[0] ?? assert.fail(`no Total line in:\n${heap.stdout}`);
    oneShotThreadCount = /^ThreadCount:\s+\d+$/m.exec(threads.stdout)?.[0] ?? assert.fail(`no ThreadCount in:\n${threads.stdout}`);
  });

  it('cancels a heap walk, keeps the session, redoes the cancelled cache, and exit still ends it with 0', async () => {
    const session = new TerminalSession([dumpPath], { ...process.env, DUMPSLEUTH_TEST_SAFE_POINT_DELAY_MS: String(SAFE_POINT_DELAY_MS) });
    try {
      let at = await session.waitFor(PROMPT, 0, 'the first prompt');

      // `-live` builds the object graph (a session cache) with a first heap walk: cancel in the middle of it. The
      // progress line shows only once a walk has run for a second, so seeing it means the main thread is busy inside
      // the walk. The command typed ahead during the walk must be dropped with it.
      session.type('dumpheap -stat -live\r');
      at = await session.waitFor(/Walking heap: \d+%/, at, 'the progress line of the walk');
      session.type('eeheap -gc\r');
      session.type(CTRL_C);
      at = await session.waitFor(/^dumpsleuth: cancelled$/m, at, 'the cancellation notice');
      at = await session.waitFor(PROMPT, at, 'the prompt after the cancellation');

      // Ctrl-C at the prompt abandons the half-typed line and the session stays.
      session.type('thr');
      session.type(CTRL_C);
      at = await session.waitFor(PROMPT, at, 'a fresh prompt after Ctrl-C at the prompt');

      session.type('clrthreads\r');
      let from = at;
      at = await session.waitFor(/^ThreadCount:\s+\d+$/m, at, 'the threads answer');
      assert.equal(/^ThreadCount:\s+\d+$/m.exec(session.screen.slice(from))?.[0], oneShotThreadCount, 'threads answers as a one-shot run does');
      at = await session.waitFor(PROMPT, at, 'the prompt after threads');

      // The graph build that was cancelled left no half-built graph behind: the same command now gives the one-shot
      // answer.
      session.type('dumpheap -stat -live\r');
      from = at;
      at = await session.waitFor(TOTAL, at, 'the histogram of the rerun');
      assert.equal(TOTAL.exec(session.screen.slice(from))?.[0], oneShotTotal, 'the rerun equals the one-shot run');
      at = await session.waitFor(PROMPT, at, 'the prompt after the rerun');

      session.type('exit\r');
      const end = await session.exit();
      const screen = session.screen;
      assert.deepEqual(end, { code: 0, signal: null }, `exit ends the session with 0; screen:\n${screen}`);
      assert.equal(screen.match(/dumpsleuth: cancelled/g)?.length, 1, 'one cancellation notice');
      assert.equal(screen.match(/^Total [\d,]+ objects/gm)?.length, 1, 'only the rerun printed a histogram');
      assert.doesNotMatch(screen, /GC Allocated Heap Size/, 'the command typed ahead of Ctrl-C was dropped');
      assert.doesNotMatch(screen, /internal error|^\s+at /m, 'no internal error or stack trace');
    } finally {
      session.kill();
    }
  });
});
