import { z } from 'zod';
import { logText } from '../core/untrusted.ts';
import { ARTIFACT, VERSION, versionOf } from '../slots/release.ts';
import { SLOT_NAMES, type SlotName } from '../slots/sides.ts';

/**
 * What Shipgate keeps in a deployment's `payload`. Anyone with `deployments: write` can create a
 * deployment with any payload, so every record read back is checked with the same patterns as the
 * inputs before any of it reaches a config file, a command, a log or a summary; one that fails is
 * skipped and named, never used.
 */
export const STRATEGIES = ['recreate', 'blue-green', 'canary', 'revert'] as const;
export type RecordedStrategy = (typeof STRATEGIES)[number];

/** A reason is shown in statuses, logs and summaries (escaped there); it never reaches config or argv. */
// eslint-disable-next-line no-control-regex
export const REASON = /^[^\u0000-\u001f\u007f\u2028\u2029]{1,500}$/;
/** A run id, or the request id a revert was asked to remember (an alert's fingerprint). */
export const REQUEST = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;

const artifact = z.string().regex(ARTIFACT, 'is not an artifact');
const slot = z.enum(SLOT_NAMES as [SlotName, ...SlotName[]]);

export const payloadSchema = z
  .object({
    artifact,
    /** Older records have none: it is then derived from the artifact. */
    version: z.string().regex(VERSION, 'is not a version').optional(),
    previous: artifact.nullable().default(null),
    slot: slot.optional(),
    strategy: z.enum(STRATEGIES).optional(),
    /** The workflow run that made the deployment. */
    run: z.string().regex(REQUEST).optional(),
    revert: z
      .object({
        from: artifact.nullable(),
        reason: z.string().regex(REASON, 'is not one line of at most 500 characters'),
        run: z.string().regex(REQUEST).optional(),
      })
      .optional(),
  })
  .transform((p) => ({ ...p, version: p.version ?? versionOf(p.artifact) }));

export type DeploymentPayload = z.output<typeof payloadSchema>;
export type NewPayload = z.input<typeof payloadSchema> & { version: string; strategy: RecordedStrategy };

/** The payload as GitHub returns it (an object, or a JSON string); the problem is log-safe. */
export function parsePayload(raw: unknown): { payload: DeploymentPayload } | { problem: string } {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw) as unknown;
    } catch {
      return { problem: `its payload is not JSON ("${logText(raw, 80)}")` };
    }
  }
  const result = payloadSchema.safeParse(value);
  if (result.success) return { payload: result.data };
  const issue = result.error.issues[0]!;
  return { problem: `payload ${issue.path.join('.') || '(whole)'} ${issue.message}` };
}

/** Whether the payload looks like Shipgate's at all: others' deployments are not worth a warning. */
export function looksLikeShipgate(raw: unknown): boolean {
  if (typeof raw === 'string') {
    try {
      raw = JSON.parse(raw) as unknown;
    } catch {
      return false;
    }
  }
  return typeof raw === 'object' && raw !== null && 'artifact' in raw;
}
