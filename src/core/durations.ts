import { ConfigurationError } from './errors.ts';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `500ms`, `30s`, `2m`, `1h`, or compounds such as `1m30s`, in milliseconds; undefined if not one. */
export function durationMs(text: string): number | undefined {
  const compact = text.trim();
  const parts = [...compact.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== compact) return undefined;
  const total = parts.reduce((sum, [, amount, unit]) => sum + Number(amount) * UNITS[unit!]!, 0);
  return Number.isFinite(total) && total > 0 ? Math.round(total) : undefined;
}

export function parseDuration(text: string, input: string, example = '30s'): number {
  const ms = durationMs(text);
  if (ms === undefined) {
    throw new ConfigurationError(input, `"${text}" is not a positive duration (a number with ms, s, m or h)`, example);
  }
  return ms;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${Number(seconds.toFixed(1))}s`;
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds - minutes * 60);
  return rest ? `${minutes}m${rest}s` : `${minutes}m`;
}
