import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { haproxyCommand } from '../../src/routers/haproxy.ts';
import { requirePrograms } from './programs.ts';
import { freePort, waitFor } from './services.ts';

export interface Haproxy {
  url: string;
  socket: string;
  /** Current weight of each server in backend `app`, as HAProxy reports it. */
  weights(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

/** HAProxy in the foreground: backend `app` with servers `stable` (weight 100) and `canary` (weight 0). */
export async function startHaproxy(stable: string, canary: string): Promise<Haproxy> {
  requirePrograms('haproxy');
  const dir = await mkdtemp(join(tmpdir(), 'shipgate-haproxy-'));
  const port = await freePort();
  const socket = join(dir, 'admin.sock');
  await writeFile(
    join(dir, 'haproxy.cfg'),
    `global
  stats socket ${socket} mode 600 level admin
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
frontend web
  bind 127.0.0.1:${port}
  default_backend app
backend app
  balance roundrobin
  server stable ${stable} weight 100
  server canary ${canary} weight 0
`,
  );
  const child = spawn('haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: ['ignore', 'ignore', 'pipe'] });
  await waitFor('HAProxy runtime API', async () =>
    (await haproxyCommand(socket, 'show info')).includes('Name: HAProxy') ? true : undefined,
  );
  return {
    url: `http://127.0.0.1:${port}`,
    socket,
    async weights() {
      const result: Record<string, number> = {};
      for (const server of ['stable', 'canary'])
        result[server] = Number((await haproxyCommand(socket, `get weight app/${server}`)).split(' ')[0]);
      return result;
    },
    async stop() {
      child.kill('SIGTERM');
      await Promise.race([new Promise((r) => child.once('exit', r)), sleep(3000)]);
    },
  };
}

export interface HaproxySlots {
  url: string;
  socket: string;
  /** Server names per slot, as the router mapping names them: blue1, blue2, green1, green2. */
  names: { blue: string[]; green: string[] };
  /** Each server's current weight. */
  weights(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

/** HAProxy in the foreground: backend `app` with a blue and a green pool, blue live (weight 100), green at 0. */
export async function startHaproxySlots(pools: { blue: string[]; green: string[] }): Promise<HaproxySlots> {
  const dir = await mkdtemp(join(tmpdir(), 'shipgate-haproxy-'));
  const port = await freePort();
  const socket = join(dir, 'admin.sock');
  const names = {
    blue: pools.blue.map((_, i) => `blue${i + 1}`),
    green: pools.green.map((_, i) => `green${i + 1}`),
  };
  const servers = [
    ...pools.blue.map((address, i) => `  server ${names.blue[i]} ${address} weight 100`),
    ...pools.green.map((address, i) => `  server ${names.green[i]} ${address} weight 0`),
  ];
  await writeFile(
    join(dir, 'haproxy.cfg'),
    `global
  stats socket ${socket} mode 600 level admin
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
frontend web
  bind 127.0.0.1:${port}
  default_backend app
backend app
  balance roundrobin
${servers.join('\n')}
`,
  );
  const child = spawn('haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: ['ignore', 'ignore', 'pipe'] });
  await waitFor('HAProxy runtime API', async () =>
    (await haproxyCommand(socket, 'show info')).includes('Name: HAProxy') ? true : undefined,
  );
  return {
    url: `http://127.0.0.1:${port}`,
    socket,
    names,
    async weights() {
      const result: Record<string, number> = {};
      for (const server of [...names.blue, ...names.green])
        result[server] = Number((await haproxyCommand(socket, `get weight app/${server}`)).split(' ')[0]);
      return result;
    },
    async stop() {
      child.kill('SIGTERM');
      await Promise.race([new Promise((r) => child.once('exit', r)), sleep(3000)]);
    },
  };
}
