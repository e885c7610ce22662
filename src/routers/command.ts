import { z } from 'zod';
import { commandSchema, passEnvSchema, runChecked } from '../core/command.ts';
import { duration } from '../core/validate.ts';
import type { TrafficRouter } from './router.ts';

export const commandRouterSchema = z.strictObject({
  type: z.literal('command'),
  command: commandSchema,
  timeout: duration('60s').default(60_000),
  env: passEnvSchema,
});

export type CommandRouterConfig = z.output<typeof commandRouterSchema>;

/**
 * For any router Shipgate does not know: the user's command gets the canary weight as
 * `{weight}` in its arguments and as SHIPGATE_CANARY_WEIGHT, and must exit 0 once it took effect.
 */
export function commandRouter(config: CommandRouterConfig): TrafficRouter {
  return {
    description: `command ${config.command[0]}`,
    async check() {},
    async setWeight(weight) {
      const argv = config.command.map((arg) =>
        arg.replaceAll('{weight}', String(weight)).replaceAll('{stable-weight}', String(100 - weight)),
      );
      await runChecked(argv, {
        timeoutMs: config.timeout,
        passEnv: config.env,
        env: { SHIPGATE_CANARY_WEIGHT: String(weight), SHIPGATE_STABLE_WEIGHT: String(100 - weight) },
      });
    },
  };
}
