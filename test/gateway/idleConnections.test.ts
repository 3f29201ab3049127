import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createGatewayApp, IDLE_CONNECTION_KEPT_MS, listenGateway } from '../../src/gateway/app';

/** GET `path` through `agent`: the status, the Keep-Alive header, and whether the request went on a kept socket. */
function get(
  agent: http.Agent,
  port: number,
  path: string,
): Promise<{ status: number; keepAlive: string; reusedSocket: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          keepAlive: String(res.headers['keep-alive'] ?? ''),
          reusedSocket: req.reusedSocket,
        }),
      );
    });
    req.on('error', reject);
  });
}

describe('the gateway keeps idle connections as long as QBWC reuses them', () => {
  it('a connection idle past a NoOp pause (6 s) is still open for the next call, and the hint says 120 s', async () => {
    const server = await listenGateway(createGatewayApp({ qbwc: express.Router() }), 0, '127.0.0.1');
    // As .NET's HttpWebRequest: one kept-alive connection, reused whatever the server's hint says.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const { port } = server.address() as AddressInfo;
      const first = await get(agent, port, '/healthz');
      assert.equal(first.status, 200);
      assert.equal(first.keepAlive, `timeout=${IDLE_CONNECTION_KEPT_MS / 1000}`);
      // QBWC pauses about 5 s after a NoOp before it calls again; Node's own default closed the connection at 5 s.
      await new Promise((r) => setTimeout(r, 6000));
      const second = await get(agent, port, '/healthz');
      assert.equal(second.status, 200);
      assert.equal(second.reusedSocket, true, 'the gateway closed the idle connection QBWC would have reused');
    } finally {
      agent.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
