import { spawn } from 'node:child_process';
import { CaptureError } from './capture-error';

/** What a finished child process printed and how it ended. */
export interface ProcessResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly elapsedMs: number;
}

/** Options of {@link runProcess}. */
export interface RunProcessOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
}

/** Runs a command to completion (no shell) and collects its output; throws CaptureError when it cannot start or times out. */
export function runProcess(command: string, args: readonly string[], options: RunProcessOptions = {}): Promise<ProcessResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, options.timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error) => {
      if (timer !== undefined) clearTimeout(timer);
      reject(new CaptureError(`cannot run ${command}: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      const result: ProcessResult = {
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        elapsedMs: Date.now() - started,
      };
      if (timedOut) {
        reject(new CaptureError(`${command} ${args.join(' ')} timed out after ${options.timeoutMs} ms`, tail(result.stderr || result.stdout)));
      } else {
        resolve(result);
      }
    });
  });
}

/** Runs a command and throws CaptureError (with the output's tail) unless it exits with code 0. */
export async function runProcessChecked(command: string, args: readonly string[], options: RunProcessOptions = {}): Promise<ProcessResult> {
  const result = await runProcess(command, args, options);
  if (result.code !== 0) {
    const how = result.signal !== null ? `signal ${result.signal}` : `exit code ${result.code}`;
    throw new CaptureError(`${command} ${args.join(' ')} failed with ${how}`, tail(`${result.stdout}\n${result.stderr}`));
  }
  return result;
}

/** The last lines of a process's output, for error messages. */
export function tail(text: string, lines = 30): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}
