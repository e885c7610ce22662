import { runCommand } from '../core/command.ts';
import { ConfigurationError } from '../core/errors.ts';

export interface SourceDate {
  date: Date;
  from: 'SOURCE_DATE_EPOCH' | 'the last commit' | 'the Unix epoch';
}

/**
 * The one time stamped on every file and on the image: SOURCE_DATE_EPOCH when set (the
 * reproducible-builds convention), else the time of the commit the context is checked out at,
 * else 1970. Never the clock, so a rebuild of the same content gives the same digest.
 */
export async function sourceDate(context: string, env: NodeJS.ProcessEnv = process.env): Promise<SourceDate> {
  const epoch = env.SOURCE_DATE_EPOCH?.trim();
  if (epoch) {
    if (!/^\d{1,12}$/.test(epoch))
      throw new ConfigurationError(
        'SOURCE_DATE_EPOCH',
        `"${epoch}" is not a whole number of seconds since 1970`,
        'SOURCE_DATE_EPOCH=1700000000',
      );
    return { date: new Date(Number(epoch) * 1000), from: 'SOURCE_DATE_EPOCH' };
  }
  const git = await runCommand(['git', '-C', context, 'log', '-1', '--format=%ct'], { timeoutMs: 10_000, quiet: true }).catch(
    () => undefined,
  );
  const seconds = git?.code === 0 ? git.stdout.trim() : '';
  if (/^\d+$/.test(seconds)) return { date: new Date(Number(seconds) * 1000), from: 'the last commit' };
  return { date: new Date(0), from: 'the Unix epoch' };
}

/** RFC 3339 in UTC without fractions, as image configs and OCI labels write times. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
