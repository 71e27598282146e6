// Headless Chromium for the HTML report tests: Debian's `chromium` package, installed with apt-get when the tests run
// as root on a Debian machine without it (as CI does on a fresh machine); otherwise the caller skips with the reason.
import * as fs from 'node:fs';
import { runProcess } from '../../src/capture';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

let found: Promise<{ path: string } | { skip: string }> | undefined;

function installed(): string | undefined {
  const fromEnv = process.env.DUMPSLEUTH_CHROMIUM;
  if (fromEnv !== undefined && fromEnv !== '' && fs.existsSync(fromEnv)) return fromEnv;
  return CANDIDATES.find((p) => fs.existsSync(p));
}

/** The Chromium executable, installing Debian's package once if needed; `skip` says why there is none. */
export function findChromium(): Promise<{ path: string } | { skip: string }> {
  found ??= (async () => {
    const have = installed();
    if (have !== undefined) return { path: have };
    if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { skip: 'Chromium is not installed and the tests do not run as root to apt-get install it' };
    if (!fs.existsSync('/usr/bin/apt-get')) return { skip: 'Chromium is not installed and there is no apt-get to install it' };
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const install = () => runProcess('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], { env, timeoutMs: 10 * 60_000 });
    let result = await install();
    if (result.code !== 0) {
      await runProcess('apt-get', ['update', '-qq'], { env, timeoutMs: 10 * 60_000 });
      result = await install();
    }
    const after = installed();
    if (after !== undefined) return { path: after };
    return { skip: `apt-get install chromium failed (exit code ${result.code}): ${result.stderr.trim().split('\n').slice(-1)[0] ?? ''}` };
  })();
  return found;
}

/** What one headless page load gave: the DOM after rendering, and Chromium's log (console messages included). */
export interface RenderedPage {
  readonly dom: string;
  readonly log: string;
  readonly screenshotBytes: number;
}

/** Loads a local HTML file in headless Chromium with every host name unresolvable (no network), takes a screenshot
 * into `screenshotPath` and dumps the rendered DOM; throws when Chromium fails. */
export async function renderPage(chromium: string, htmlPath: string, screenshotPath: string): Promise<RenderedPage> {
  const common = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--enable-logging=stderr', '--v=0', '--host-resolver-rules=MAP * ~NOTFOUND', '--window-size=1200,1600'];
  const url = `file://${htmlPath}`;
  const shot = await runProcess(chromium, [...common, `--screenshot=${screenshotPath}`, url], { timeoutMs: 120_000 });
  if (shot.code !== 0 || !fs.existsSync(screenshotPath)) throw new Error(`chromium --screenshot failed (exit code ${shot.code}): ${shot.stderr.slice(-500)}`);
  const dom = await runProcess(chromium, [...common, '--dump-dom', url], { timeoutMs: 120_000 });
  if (dom.code !== 0) throw new Error(`chromium --dump-dom failed (exit code ${dom.code}): ${dom.stderr.slice(-500)}`);
  return { dom: dom.stdout, log: `${shot.stderr}\n${dom.stderr}`, screenshotBytes: fs.statSync(screenshotPath).size };
}
