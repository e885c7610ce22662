import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { commandSchema, passEnvSchema } from '../core/command.ts';
import { ConfigurationError } from '../core/errors.ts';
import { hostPort, name } from '../core/validate.ts';
import { NginxUpstream, upstreamProblem } from './nginx-upstream.ts';
import type { TrafficRouter } from './router.ts';

/** How Shipgate reaches one nginx upstream block: the canary's router and deploy's blue-green target alike. */
export const nginxUpstreamFields = {
  type: z.literal('nginx'),
  'config-file': z.string().min(1, 'config-file is required'),
  upstream: name('upstream'),
  'reload-command': commandSchema.default(['nginx', '-s', 'reload']),
  'test-command': commandSchema.optional(),
  env: passEnvSchema,
};

export const nginxRouterSchema = z
  .strictObject({ ...nginxUpstreamFields, stable: hostPort, canary: hostPort })
  .refine((c) => c.stable !== c.canary, { message: 'stable and canary must be different servers', path: ['canary'] });

const EXAMPLE =
  '{type: nginx, config-file: /etc/nginx/conf.d/app-upstream.conf, upstream: app, stable: 10.0.0.5:8080, canary: 10.0.0.6:8080}';

export type NginxRouterConfig = z.output<typeof nginxRouterSchema>;

/** Splits traffic with nginx's weighted round robin: the weights are the percentages themselves. */
export function nginxRouter(config: NginxRouterConfig): TrafficRouter {
  const upstream = new NginxUpstream({
    configFile: config['config-file'],
    upstream: config.upstream,
    reloadCommand: config['reload-command'],
    testCommand: config['test-command'],
    passEnv: config.env,
  });
  return {
    description: upstream.description,
    async check() {
      const text = await readFile(config['config-file'], 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new ConfigurationError(
          'router',
          `cannot read config-file ${config['config-file']} (${error.code ?? error.message})`,
          EXAMPLE,
        );
      });
      const problem = upstreamProblem(text, config.upstream);
      if (problem) throw new ConfigurationError('router', `config-file ${config['config-file']} ${problem}`, EXAMPLE);
    },
    async currentWeight() {
      const servers = await upstream.servers();
      const total = servers.reduce((sum, s) => sum + s.weight, 0);
      const canary = servers.find((s) => s.address === config.canary)?.weight ?? 0;
      return total ? Math.round((100 * canary) / total) : 0;
    },
    async setWeight(weight) {
      await upstream.apply(
        [
          { address: config.stable, weight: 100 - weight },
          { address: config.canary, weight },
        ],
        `canary ${weight}%`,
      );
    },
  };
}
