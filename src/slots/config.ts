import { z } from 'zod';
import { commandSchema, passEnvSchema } from '../core/command.ts';
import { duration, hostPort, name } from '../core/validate.ts';
import type { SlotName } from './sides.ts';

/**
 * The one YAML mapping that says where a service's traffic goes. deploy's `target`, canary's
 * `router` and revert's `target`/`router` all take it, so a workflow pastes the same block into
 * each. Slots are pools: `blue: [10.0.0.5:8080, 10.0.0.7:8080]` (one `host:port` string still works).
 * The canary's older fixed form (`stable:`/`canary:`) and `type: command` keep working.
 */
const pool = <T extends z.ZodType<string>>(item: T) =>
  z
    .union([item, z.array(item).min(1, 'a pool needs at least one server')])
    .transform((value) => (Array.isArray(value) ? value : [value]) as string[]);

const addresses = pool(hostPort);
const serverNames = pool(name('a server name'));

const sides = <T extends z.ZodType<string[]>>(members: T) => ({
  blue: members.optional(),
  green: members.optional(),
  stable: members.optional(),
  canary: members.optional(),
  /** deploy and revert: puts an artifact on a slot; the canary ignores it. */
  run: commandSchema.optional(),
  timeout: duration('10m').optional(),
  /** Variables of the step's environment the commands get (credentials only when named here). */
  env: passEnvSchema,
});

function checkSides(value: { blue?: string[]; green?: string[]; stable?: string[]; canary?: string[] }, ctx: z.RefinementCtx): void {
  const slots = value.blue !== undefined || value.green !== undefined;
  const fixed = value.stable !== undefined || value.canary !== undefined;
  if (slots && fixed) {
    ctx.addIssue({ code: 'custom', message: 'give blue and green (slots), or stable and canary (fixed servers), not both' });
    return;
  }
  const [a, b] = fixed ? (['stable', 'canary'] as const) : (['blue', 'green'] as const);
  for (const side of [a, b]) if (value[side] === undefined) ctx.addIssue({ code: 'custom', path: [side], message: `${side} is required` });
  const all = [...(value[a] ?? []), ...(value[b] ?? [])];
  const twice = all.find((server, i) => all.indexOf(server) !== i);
  if (twice) ctx.addIssue({ code: 'custom', path: [b], message: `${twice} is listed twice; each server belongs to one side` });
}

export const nginxRoutingSchema = z
  .strictObject({
    type: z.literal('nginx'),
    'config-file': z.string().min(1, 'config-file is required'),
    upstream: name('upstream'),
    'reload-command': commandSchema.default(['nginx', '-s', 'reload']),
    'test-command': commandSchema.optional(),
    ...sides(addresses),
  })
  .superRefine(checkSides);

export const haproxyRoutingSchema = z
  .strictObject({
    type: z.literal('haproxy'),
    socket: z.union([z.string().startsWith('/', 'socket must be an absolute path or host:port'), hostPort]),
    backend: name('backend'),
    ...sides(serverNames),
  })
  .superRefine(checkSides);

/** A router or target Shipgate does not know: `command` moves traffic (canary), `run` puts an artifact live (deploy). */
export const commandRoutingSchema = z.strictObject({
  type: z.literal('command'),
  command: commandSchema.optional(),
  run: commandSchema.optional(),
  timeout: duration('10m').optional(),
  env: passEnvSchema,
});

export const routingSchema = z.discriminatedUnion('type', [nginxRoutingSchema, haproxyRoutingSchema, commandRoutingSchema], {
  error: (issue) => (issue.code === 'invalid_union' ? 'type must be nginx, haproxy or command' : undefined),
});

export type NginxRouting = z.output<typeof nginxRoutingSchema>;
export type HaproxyRouting = z.output<typeof haproxyRoutingSchema>;
export type CommandRouting = z.output<typeof commandRoutingSchema>;
export type Routing = z.output<typeof routingSchema>;
/** A router with blue and green slots. */
export type SlotRouting = (NginxRouting | HaproxyRouting) & Record<SlotName, string[]>;
/** The canary's fixed form: the same servers are stable and canary every release. */
export type FixedRouting = (NginxRouting | HaproxyRouting) & { stable: string[]; canary: string[] };

export function isSlotRouting(routing: Routing): routing is SlotRouting {
  return routing.type !== 'command' && routing.blue !== undefined;
}

export function isFixedRouting(routing: Routing): routing is FixedRouting {
  return routing.type !== 'command' && routing.stable !== undefined;
}

export const ROUTING_EXAMPLE =
  "{type: nginx, config-file: /etc/nginx/conf.d/app-upstream.conf, upstream: app, blue: [10.0.0.5:8080], green: [10.0.0.6:8080], run: [/opt/shipgate/put-slot, '{slot}', '{artifact}']}";

export const routingExample = (input: string) => `${input}: "${ROUTING_EXAMPLE}"`;
