import { z } from 'zod';
import { ARTIFACT, VERSION, type Release } from './release.ts';
import { SLOT_NAMES, type SlotName } from './sides.ts';

/**
 * The router record: what the router itself says about its slots, so deploy, canary and revert
 * need no GitHub call to know which slot is known good. nginx keeps it in a comment of the upstream
 * block, HAProxy in a process variable. It is written only from validated values and read back
 * as untrusted text: a record that fails these checks is ignored (and named), never used.
 */
export interface RouterRecord {
  /** The known-good slot: all traffic at rest, the stable side while a canary ramps. */
  live: SlotName;
  /** Set when the idle slot still holds the release that was live before the current one. */
  kept?: SlotName;
  /** The release each slot holds, when known. */
  slots: Partial<Record<SlotName, Release>>;
}

const slotName = z.enum(SLOT_NAMES as [SlotName, ...SlotName[]]);
const fields = z.strictObject({
  live: slotName,
  kept: slotName.optional(),
  blue: z.string().regex(ARTIFACT).optional(),
  'blue-version': z.string().regex(VERSION).optional(),
  green: z.string().regex(ARTIFACT).optional(),
  'green-version': z.string().regex(VERSION).optional(),
});

/** `live=green kept=blue blue=… blue-version=v2 green=… green-version=v3`: one line, no spaces inside a value. */
export function formatRecord(record: RouterRecord): string {
  const parts = [`live=${record.live}`];
  if (record.kept) parts.push(`kept=${record.kept}`);
  for (const slot of SLOT_NAMES) {
    const release = record.slots[slot];
    if (release) parts.push(`${slot}=${release.artifact}`, `${slot}-version=${release.version}`);
  }
  const text = parts.join(' ');
  // Written only from checked values; checked again so a bug can never write what a reader would refuse.
  const parsed = parseRecord(text);
  if ('problem' in parsed) throw new Error(`refusing to write an invalid router record: ${parsed.problem}`);
  return text;
}

export function parseRecord(text: string): { record: RouterRecord } | { problem: string } {
  const entries: Record<string, string> = {};
  for (const part of text.trim().split(/ +/)) {
    const eq = part.indexOf('=');
    if (eq <= 0) return { problem: `"${part}" is not key=value` };
    const key = part.slice(0, eq);
    if (key in entries) return { problem: `${key} appears twice` };
    entries[key] = part.slice(eq + 1);
  }
  const result = fields.safeParse(entries);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    return { problem: `${issue.path.join('.') || 'record'}: ${issue.message}` };
  }
  const value = result.data;
  const slots: RouterRecord['slots'] = {};
  for (const slot of SLOT_NAMES) {
    const artifact = value[slot];
    const version = value[`${slot}-version`];
    if ((artifact === undefined) !== (version === undefined)) return { problem: `${slot} needs both its artifact and its version` };
    if (artifact && version) slots[slot] = { artifact, version };
  }
  if (value.kept === value.live) return { problem: 'the kept slot cannot be the live one' };
  return { record: { live: value.live, ...(value.kept ? { kept: value.kept } : {}), slots } };
}
