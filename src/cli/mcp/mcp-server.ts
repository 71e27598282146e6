/**
 * `dumpsleuth mcp`: a Model Context Protocol server over stdio (newline-delimited JSON-RPC 2.0), so an AI assistant
 * can open a dump and investigate it with the same commands a person uses, with JSON results. Written by hand: the
 * server side is a handful of methods (initialize, tools/list, tools/call, ping), not worth a dependency.
 * stdout carries protocol messages only; nothing else may write there while the server runs.
 */
import * as readline from 'node:readline';
import { CancelledError, DumpsleuthError } from '../../errors';
import { McpDumps, mcpTools, type McpTool } from './mcp-tools';

/** Protocol versions this server speaks, newest first; a client asking for another gets the newest. */
const PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'];

interface JsonRpcRequest {
  readonly jsonrpc: '2.0';
  readonly id?: string | number | null;
  readonly method: string;
  readonly params?: Record<string, unknown>;
}

/** JSON-RPC error codes. */
const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;
const METHOD_NOT_FOUND = -32601;
const INVALID_PARAMS = -32602;

/** Serves MCP on stdin/stdout until stdin ends. Returns the exit code. */
export async function runMcpServer(version: string): Promise<number> {
  const dumps = new McpDumps();
  const tools = mcpTools();
  const byName = new Map(tools.map((t) => [t.name, t]));
  const send = (message: unknown) => process.stdout.write(JSON.stringify(message) + '\n');
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  try {
    for await (const line of rl) {
      if (line.trim() === '') continue;
      let request: JsonRpcRequest;
      try {
        request = JSON.parse(line) as JsonRpcRequest;
      } catch {
        send({ jsonrpc: '2.0', id: null, error: { code: PARSE_ERROR, message: 'parse error' } });
        continue;
      }
      if (typeof request !== 'object' || request === null || typeof request.method !== 'string') {
        // A response from the client (we send no requests) or garbage: answer only what has an id.
        if (request && typeof request === 'object' && 'id' in request && !('result' in request) && !('error' in request)) {
          send({ jsonrpc: '2.0', id: (request as { id: unknown }).id ?? null, error: { code: INVALID_REQUEST, message: 'invalid request' } });
        }
        continue;
      }
      const isNotification = request.id === undefined;
      const reply = handle(request, tools, byName, dumps, version);
      if (!isNotification && reply !== undefined) send({ jsonrpc: '2.0', id: request.id, ...reply });
    }
  } finally {
    dumps.closeAll();
  }
  return 0;
}

type Reply = { result: unknown } | { error: { code: number; message: string } } | undefined;

function handle(request: JsonRpcRequest, tools: readonly McpTool[], byName: Map<string, McpTool>, dumps: McpDumps, version: string): Reply {
  const params = request.params ?? {};
  switch (request.method) {
    case 'initialize': {
      const asked = typeof params.protocolVersion === 'string' ? params.protocolVersion : '';
      return {
        result: {
          protocolVersion: PROTOCOL_VERSIONS.includes(asked) ? asked : PROTOCOL_VERSIONS[0],
          capabilities: { tools: { listChanged: false } },
          serverInfo: { name: 'dumpsleuth', version },
          instructions:
            'Analyze .NET memory dumps (Linux core dumps) without a debugger. Start with analyze {dump} for leaks; use the SOS-named tools (dumpheap, gcroot, dumpobj, clrthreads, ...) to check a finding: each finding lists its verify commands. Addresses are hex strings.',
        },
      };
    }
    case 'ping':
      return { result: {} };
    case 'tools/list':
      return { result: { tools: tools.map((t) => ({ name: t.name, description: t.description, inputSchema: t.inputSchema })) } };
    case 'tools/call': {
      const tool = typeof params.name === 'string' ? byName.get(params.name) : undefined;
      if (!tool) return { error: { code: INVALID_PARAMS, message: `unknown tool ${JSON.stringify(params.name)}` } };
      const args = (typeof params.arguments === 'object' && params.arguments !== null ? params.arguments : {}) as Record<string, unknown>;
      try {
        const doc = tool.call(dumps, args);
        return { result: { content: [{ type: 'text', text: JSON.stringify(doc) }], structuredContent: doc, isError: false } };
      } catch (e) {
        // Tool failures are results the model can read and act on, not protocol errors.
        const known = e instanceof DumpsleuthError || e instanceof CancelledError;
        const message = e instanceof Error ? e.message : String(e);
        return { result: { content: [{ type: 'text', text: known ? message : `internal error: ${message}` }], isError: true } };
      }
    }
    default:
      if (request.method.startsWith('notifications/')) return undefined;
      return { error: { code: METHOD_NOT_FOUND, message: `method not found: ${request.method}` } };
  }
}
