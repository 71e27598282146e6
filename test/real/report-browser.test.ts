// Issue 13: the HTML reports in a real browser (Debian's Chromium, headless, network names unresolvable): the page
// renders, Chromium logs no console message or failed load, the culprit and the counts are in the rendered page,
// and a screenshot is kept in <cache>/artefacts/ for a person to look at. Skipped, with the reason, without Chromium.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { cacheRoot } from '../../src/capture';
import { findChromium, renderPage } from '../support/chromium';
import { runCli } from '../support/cli-runner';
import { getDump, getDumpPair } from '../support/dumps';

const TIMEOUT = 15 * 60_000;

async function renderReport(t: TestContext, name: string, args: readonly string[]): Promise<{ dom: string; log: string } | undefined> {
  const chromium = await findChromium();
  if ('skip' in chromium) {
    t.skip(chromium.skip);
    return undefined;
  }
  const run = await runCli(args, { timeoutMs: 120_000 });
  assert.equal(run.code, 0, run.stderr);
  const dir = path.join(cacheRoot(), 'artefacts');
  fs.mkdirSync(dir, { recursive: true });
  const htmlPath = path.join(dir, `${name}.html`);
  fs.writeFileSync(htmlPath, run.stdout);
  const shot = path.join(dir, `${name}.png`);
  const page = await renderPage(chromium.path, htmlPath, shot);
  t.diagnostic(`screenshot: ${shot} (${page.screenshotBytes} bytes)`);
  assert.ok(page.screenshotBytes > 20_000, 'a screenshot with content');
  assert.deepEqual(page.log.split('\n').filter((l) => /CONSOLE|Uncaught|net::ERR_|Failed to load resource/.test(l)), [], 'no console message, no failed load');
  return page;
}

describe('HTML reports in headless Chromium', { timeout: TIMEOUT }, () => {
  it('analyze of seed-apm: the culprit, the 25 dead threads and the chain render', async (t) => {
    const dump = await getDump('seed-apm');
    const page = await renderReport(t, 'analyze-seed-apm', [dump.dumpPath, 'analyze', '--format', 'html']);
    if (!page) return;
    assert.ok(page.dom.includes('<code class="culprit-method">Gateway.GatewayClientController.OnReceive(System.IAsyncResult)</code>'));
    assert.ok(page.dom.includes('<b class="count">25</b>'));
    assert.match(page.dom, /<li class="symptom"[^>]*><span class="field">\._thread<\/span> → System\.Threading\.Thread/);
  });

  it('diff of the grow pair: both growth findings, the culprit and the growth chart render', async (t) => {
    const pair = await getDumpPair('grow');
    const page = await renderReport(t, 'diff-grow', ['diff', pair.first.dumpPath, pair.second.dumpPath, '--format', 'html']);
    if (!page) return;
    assert.ok(page.dom.includes('<code class="culprit-method">Growth.BeatListener.OnBeat(System.Object, System.EventArgs)</code>'));
    assert.ok(page.dom.includes('<b class="count">700</b>') && page.dom.includes('<b class="count">300</b>'));
    assert.match(page.dom, /<h2>Growth by type \(bytes\)<\/h2>/);
  });
});
