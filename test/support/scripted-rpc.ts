/**
 * A JSON-RPC server in front of a real node that misbehaves on demand, for what a real node will
 * not do when asked: refuse `eth_getLogs` over more than a number of blocks (as hosted nodes do),
 * or drop the connection in the middle of an answer. Everything else is passed through.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the server does; change it while it runs. */
export interface RpcScript {
  /** Refuse eth_getLogs over more blocks than this (JSON-RPC error -32005). */
  refuseLogsOver?: number;
  /** Drop the connection mid-answer for this many further calls of `dropMethod`. */
  drops?: number;
  dropMethod?: string;
}

/** A running scripted server. */
export interface ScriptedRpc {
  url: string;
  script: RpcScript;
  /** Every call received: method, params and what was done. */
  calls: { method: string; params: unknown[]; outcome: 'passed' | 'refused' | 'dropped' }[];
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Starts the server on a free port, passing calls through to `upstream`. */
export async function startScriptedRpc(upstream: string, script: RpcScript = {}): Promise<ScriptedRpc> {
  const calls: ScriptedRpc['calls'] = [];
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const text = await body(req);
    const call = JSON.parse(text) as { id: number; method: string; params?: unknown[] };
    const params = call.params ?? [];
    if (call.method === 'eth_getLogs' && script.refuseLogsOver !== undefined) {
      const filter = params[0] as { fromBlock: string; toBlock: string };
      const span = Number(BigInt(filter.toBlock) - BigInt(filter.fromBlock)) + 1;
      if (span > script.refuseLogsOver) {
        calls.push({ method: call.method, params, outcome: 'refused' });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', id: call.id, error: { code: -32005, message: `query exceeds max block range ${script.refuseLogsOver}` } }));
        return;
      }
    }
    const answer = await (await fetch(upstream, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text })).text();
    if ((script.drops ?? 0) > 0 && (script.dropMethod === undefined || script.dropMethod === call.method)) {
      script.drops = (script.drops ?? 0) - 1;
      calls.push({ method: call.method, params, outcome: 'dropped' });
      // Half an answer, then the connection is gone: what a node behind a failing proxy does.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(answer)) });
      res.write(answer.slice(0, Math.floor(answer.length / 2)));
      setImmediate(() => res.socket?.destroy());
      return;
    }
    calls.push({ method: call.method, params, outcome: 'passed' });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(answer);
  };
  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.socket?.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    script,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
