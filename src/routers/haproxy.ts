import { connect } from 'node:net';
import { z } from 'zod';
import { ConfigurationError } from '../core/errors.ts';
import { hostPort, name } from '../core/validate.ts';
import type { TrafficRouter } from './router.ts';

export const haproxyRouterSchema = z.strictObject({
  type: z.literal('haproxy'),
  socket: z.union([z.string().startsWith('/', 'socket must be an absolute path or host:port'), hostPort]),
  backend: name('backend'),
  stable: name('stable (the server name in the backend)'),
  canary: name('canary (the server name in the backend)'),
});

export type HaproxyRouterConfig = z.output<typeof haproxyRouterSchema>;

const EXAMPLE = '{type: haproxy, socket: /run/haproxy/admin.sock, backend: app, stable: blue, canary: green}';

/** Sends one line to HAProxy's runtime API and returns its answer (the socket closes after it). */
export function haproxyCommand(socket: string, command: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const hostPortMatch = /^(.*):(\d+)$/.exec(socket);
    const connection = socket.startsWith('/')
      ? connect(socket)
      : connect(Number(hostPortMatch![2]), hostPortMatch![1]!.replace(/^\[|\]$/g, ''));
    let answer = '';
    connection.setTimeout(timeoutMs, () => connection.destroy(new Error(`no answer from ${socket} within ${timeoutMs}ms`)));
    connection.on('connect', () => connection.end(`${command}\n`));
    connection.on('data', (chunk) => (answer += chunk.toString('utf8')));
    connection.on('error', (error) => reject(new Error(`HAProxy runtime API at ${socket}: ${error.message}`)));
    connection.on('close', (hadError) => hadError || resolve(answer.trim()));
  });
}

/**
 * Splits traffic by server weights over HAProxy's runtime API: no reload, so no connection is
 * dropped. Weights are the percentages (HAProxy accepts 0–256), set in one command line.
 */
export function haproxyRouter(config: HaproxyRouterConfig): TrafficRouter {
  const { socket, backend, stable, canary } = config;
  return {
    description: `HAProxy backend ${backend} via ${socket}`,
    async check() {
      for (const server of [stable, canary]) {
        const answer = await haproxyCommand(socket, `get weight ${backend}/${server}`).catch((error: Error) => {
          throw new ConfigurationError('router', `cannot reach the runtime API (${error.message})`, EXAMPLE);
        });
        if (!/^\d+/.test(answer)) {
          throw new ConfigurationError('router', `HAProxy has no server ${backend}/${server} (${answer || 'no answer'})`, EXAMPLE);
        }
      }
    },
    async currentWeight() {
      const [stableWeight, canaryWeight] = await Promise.all(
        [stable, canary].map(async (server) => Number.parseInt(await haproxyCommand(socket, `get weight ${backend}/${server}`), 10)),
      );
      const total = stableWeight! + canaryWeight!;
      return total ? Math.round((100 * canaryWeight!) / total) : 0;
    },
    async setWeight(weight) {
      const answer = await haproxyCommand(
        socket,
        `set weight ${backend}/${stable} ${100 - weight}; set weight ${backend}/${canary} ${weight}`,
      );
      if (answer !== '') throw new Error(`HAProxy refused the weights: ${answer.replace(/\s+/g, ' ')}`);
    },
  };
}
