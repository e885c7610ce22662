import { durationMs } from '../core/durations.ts';
import { ConfigurationError } from '../core/errors.ts';

export interface Step {
  /** Percent of traffic on the canary, in (0, 100]. */
  weight: number;
  /** How long the weight is held while the gate watches; 0 for the final 100%. */
  holdMs: number;
}

const EXAMPLE = 'steps: "5%:2m, 25%:5m, 50%:5m, 100%"';
const STEP = /^(\d+)%(?::(.+))?$/;

/** Parses `WEIGHT%:HOLD, …, 100%` into steps; the list must rise strictly and end at 100%. */
export function parseSteps(text: string, input = 'steps'): Step[] {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) throw new ConfigurationError(input, 'is empty', EXAMPLE);
  const steps: Step[] = [];
  for (const [index, item] of items.entries()) {
    const match = STEP.exec(item.replace(/\s+/g, ''));
    if (!match) throw new ConfigurationError(input, `"${item}" is not WEIGHT%:HOLD with a whole-number weight`, EXAMPLE);
    const weight = Number(match[1]);
    const last = index === items.length - 1;
    if (weight <= 0 || weight > 100) throw new ConfigurationError(input, `weight ${weight}% must be above 0% and at most 100%`, EXAMPLE);
    const previous = steps.at(-1);
    if (previous && weight <= previous.weight) {
      throw new ConfigurationError(input, `weights must increase: ${weight}% comes after ${previous.weight}%`, EXAMPLE);
    }
    if (match[2] === undefined) {
      if (!last)
        throw new ConfigurationError(input, `"${item}" needs a hold time (e.g. ${weight}%:2m); only the final 100% has none`, EXAMPLE);
      steps.push({ weight, holdMs: 0 });
      continue;
    }
    const holdMs = durationMs(match[2]);
    if (holdMs === undefined) throw new ConfigurationError(input, `hold "${match[2]}" of ${weight}% is not a positive duration`, EXAMPLE);
    steps.push({ weight, holdMs });
  }
  const final = steps.at(-1)!;
  if (final.weight !== 100) throw new ConfigurationError(input, `must end with 100%, not ${final.weight}%`, EXAMPLE);
  if (final.holdMs !== 0) throw new ConfigurationError(input, 'the final 100% takes no hold time', EXAMPLE);
  return steps;
}
