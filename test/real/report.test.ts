// Issue 13, shareable reports: `--format md` (pasted into a GitHub issue: tables, code blocks, no line over 120
// characters) and `--format html` (one self-contained page: no script, no network) of analyze on the seed-apm dump
// and of a diff of the grow pair. The facts in them are those the scenarios state (25 clients; 700 sessions).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../support/cli-runner';
import { getDump, getDumpPair } from '../support/dumps';

const TIMEOUT = 10 * 60_000;
const SEED_CLIENTS = 25; // Gateway.SeedApmScenario.ClientCount
const SEED_CULPRIT = 'Gateway.GatewayClientController.OnReceive(System.IAsyncResult)';

async function report(args: readonly string[]): Promise<string> {
  const run = await runCli(args, { timeoutMs: 120_000 });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, '');
  return run.stdout;
}

function assertGoodMarkdown(md: string): void {
  const lines = md.split('\n');
  const long = lines.filter((l) => l.length > 120);
  assert.deepEqual(long, [], 'no line over 120 characters');
  assert.equal(lines.filter((l) => l.startsWith('```')).length % 2, 0, 'code fences are balanced');
  assert.ok(lines.some((l) => /^\|---/.test(l)), 'a table');
  assert.ok(!/^Warning: /m.test(md), 'warnings are inside the report');
}

function assertSelfContainedHtml(html: string): void {
  assert.match(html, /^<!DOCTYPE html>/);
  assert.match(html, /<\/html>\s*$/);
  assert.ok(!/<script/i.test(html), 'no script');
  assert.ok(!/\b(?:src|href)\s*=\s*"(?:https?:)?\/\//i.test(html) && !/url\(\s*['"]?(?:https?:)?\/\//i.test(html), 'nothing loaded from the network');
}

describe('reports', { timeout: TIMEOUT }, () => {
  it('analyze --format md on seed-apm: the finding, its culprit, its chain and verify commands, tables', async () => {
    const dump = await getDump('seed-apm');
    const md = await report([dump.dumpPath, 'analyze', '--format', 'md']);
    assertGoodMarkdown(md);
    assert.match(md, new RegExp(`### 1\\. \\[error\\] ${SEED_CLIENTS} dead threads`));
    assert.ok(md.includes(`**Culprit:** \`${SEED_CULPRIT}\``), 'the culprit method');
    assert.match(md, /## Top types by retained size/);
    assert.match(md, /```\ngcroot 0x[0-9a-f]+/);
  });

  it('analyze --format html on seed-apm: one self-contained page with the culprit and the count', async () => {
    const dump = await getDump('seed-apm');
    const html = await report([dump.dumpPath, 'analyze', '--format', 'html']);
    assertSelfContainedHtml(html);
    assert.ok(html.includes(`<code class="culprit-method">${SEED_CULPRIT}</code>`), 'the culprit');
    assert.ok(html.includes(`Objects <b class="count">${SEED_CLIENTS}</b>`), 'the count');
    assert.match(html, /<ol class="chain">/);
  });

  it('diff --format md and html of the grow pair: the growth findings and the growth chart', async () => {
    const pair = await getDumpPair('grow');
    const md = await report(['diff', pair.first.dumpPath, pair.second.dumpPath, '--format', 'md']);
    assertGoodMarkdown(md);
    assert.match(md, /Growth\.UserSession grew by 700 \(300 → 1,000\), held by static Growth\.SessionRegistry\.s\\_sessions/);
    assert.ok(md.includes('**Culprit:** `Growth.BeatListener.OnBeat(System.Object, System.EventArgs)`'));
    assert.match(md, /## Growth by type \(bytes\)/);
    const html = await report(['diff', pair.first.dumpPath, pair.second.dumpPath, '--format', 'html']);
    assertSelfContainedHtml(html);
    assert.ok(html.includes('<code class="culprit-method">Growth.BeatListener.OnBeat(System.Object, System.EventArgs)</code>'));
    assert.ok(html.includes('Objects <b class="count">700</b>'));
  });

  it('an unknown format is one usage line', async () => {
    const dump = await getDump('seed-apm');
    const run = await runCli([dump.dumpPath, 'analyze', '--format', 'pdf']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^dumpsleuth: analyze: unknown --format "pdf"/);
  });
});
