import { z } from 'zod';
import { commandSchema, passEnvSchema } from '../core/command.ts';
import { duration, hostPort } from '../core/validate.ts';
import { nginxUpstreamFields } from '../routers/nginx.ts';

const run = commandSchema;
const timeout = duration('10m').default(600_000);

/** Recreate: `run` puts the artifact live in place of the old one. */
export const commandTargetSchema = z.strictObject({ type: z.literal('command'), run, timeout, env: passEnvSchema });

/** Blue-green over two slots behind one nginx upstream; `run` puts the artifact on the idle slot. */
export const nginxTargetSchema = z
  .strictObject({ ...nginxUpstreamFields, blue: hostPort, green: hostPort, run, timeout })
  .refine((t) => t.blue !== t.green, { message: 'blue and green must be different servers', path: ['green'] });

export const targetSchema = z.discriminatedUnion('type', [commandTargetSchema, nginxTargetSchema], {
  error: (issue) => (issue.code === 'invalid_union' ? 'type must be command or nginx' : undefined),
});

export type CommandTarget = z.output<typeof commandTargetSchema>;
export type NginxTarget = z.output<typeof nginxTargetSchema>;
export type TargetConfig = z.output<typeof targetSchema>;

export const TARGET_EXAMPLE =
  "target: \"{type: nginx, config-file: /etc/nginx/conf.d/app.conf, upstream: app, blue: 10.0.0.5:8080, green: 10.0.0.6:8080, run: [deploy-slot, '{slot}', '{artifact}']}\"";
