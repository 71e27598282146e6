// `dumpsleuth mcp` driven by the official MCP TypeScript SDK's client over stdio, as an AI assistant would: initialize,
// list the tools, call analyze on the seed-apm heap dump (the culprit must come back), check a finding's verify
// command through its own tool, and see a tool error come back as an error result. Numbers checked against SOS.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { COMMANDS } from '../../src/cli/commands';
import { CLI_PATH, REPO_ROOT } from '../support/cli-runner';
import { getDump } from '../support/dumps';
import { runSos } from '../support/sos';
import { parseDumpHeapStat } from '../support/sos-parsers';

const TIMEOUT = 5 * 60_000;

/** The parts of the SDK's client this test uses (the SDK is a dev dependency, loaded through its CommonJS build). */
interface ToolResult {
  content: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}
interface SdkClient {
  connect(transport: unknown): Promise<void>;
  listTools(): Promise<{ tools: { name: string; description?: string; inputSchema: Record<string, unknown> }[] }>;
  callTool(params: { name: string; arguments: Record<string, unknown> }, schema?: unknown, options?: { timeout?: number }): Promise<ToolResult>;
  getServerVersion(): { name: string; version: string } | undefined;
  close(): Promise<void>;
}

/* eslint-disable @typescript-eslint/no-require-imports */
const { Client } = require('@modelcontextprotocol/sdk/client/index.js') as { Client: new (info: { name: string; version: string }) => SdkClient };
const { StdioClientTransport } = require('@modelcontextprotocol/sdk/client/stdio.js') as {
  StdioClientTransport: new (params: { command: string; args: string[]; cwd?: string; stderr?: 'pipe' | 'inherit' }) => unknown;
};
/* eslint-enable @typescript-eslint/no-require-imports */

function docOf(result: ToolResult): Record<string, unknown> {
  assert.equal(result.isError, false, `tool error: ${result.content.map((c) => c.text).join('')}`);
  const text = result.content.find((c) => c.type === 'text')?.text ?? '';
  const doc = JSON.parse(text) as Record<string, unknown>;
  assert.deepEqual(result.structuredContent, doc, 'structured content equals the text content');
  return doc;
}

describe('the MCP server (dumpsleuth mcp) with the MCP SDK client', { timeout: TIMEOUT }, () => {
  let dumpPath: string;
  let client: SdkClient;

  before(async () => {
    dumpPath = (await getDump('seed-apm', { dumpType: 'heap', serverGc: false })).dumpPath;
    client = new Client({ name: 'dumpsleuth-test', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [CLI_PATH, 'mcp'], cwd: REPO_ROOT, stderr: 'pipe' }));
  });
  after(async () => {
    await client?.close();
  });

  it('initializes and lists open_dump, analyze and one tool per command', async () => {
    assert.equal(client.getServerVersion()?.name, 'dumpsleuth');
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    for (const name of ['open_dump', 'close_dump', 'analyze', ...COMMANDS.map((c) => c.name)]) assert.ok(names.includes(name), `tool ${name}`);
    for (const t of tools) {
      assert.equal(t.inputSchema.type, 'object', `${t.name}: object schema`);
      assert.ok((t.description ?? '').length > 20, `${t.name}: described`);
    }
  });

  it('analyze on the seed-apm dump returns the 25 dead threads and the culprit', async () => {
    const doc = docOf(await client.callTool({ name: 'analyze', arguments: { dump: dumpPath } }, undefined, { timeout: 120_000 }));
    const findings = doc.findings as { rule: string; objectCount: number; culprit?: { method: string; module: string }; verify: string[] }[];
    const first = findings[0]!;
    assert.equal(first.rule, 'finished-but-alive');
    assert.equal(first.objectCount, 25);
    assert.equal(first.culprit?.method, 'Gateway.GatewayClientController.OnReceive(System.IAsyncResult)');
    assert.equal(first.culprit?.module, 'Debuggees.dll');
    // A verify line is a command; its tool answers it.
    const gcroot = first.verify.find((v) => v.startsWith('gcroot '))!;
    const roots = docOf(await client.callTool({ name: 'gcroot', arguments: { dump: dumpPath, args: gcroot.split(' ').slice(1) } }));
    assert.ok((roots.paths as unknown[]).length > 0, 'the verify gcroot finds a root');
  });

  it('a command tool gives the same numbers as SOS (dumpheap -stat)', async () => {
    const sos = parseDumpHeapStat(await runSos(dumpPath, 'dumpheap -stat'));
    const doc = docOf(await client.callTool({ name: 'dumpheap', arguments: { dump: dumpPath, args: '-stat' } }));
    assert.equal(doc.totalCount, sos.totalCount);
    assert.equal(doc.totalSize, sos.totalSize);
  });

  it('errors are tool results with isError, and the server keeps serving', async () => {
    const bad = await client.callTool({ name: 'dumpobj', arguments: { dump: dumpPath, args: 'zz' } });
    assert.equal(bad.isError, true);
    assert.match(bad.content[0]!.text!, /not a hex/);
    const missing = await client.callTool({ name: 'open_dump', arguments: { dump: '/nonexistent/core.1' } });
    assert.equal(missing.isError, true);
    const info = docOf(await client.callTool({ name: 'open_dump', arguments: { dump: dumpPath } }));
    assert.equal(typeof info.runtimeVersion, 'string');
  });
});
