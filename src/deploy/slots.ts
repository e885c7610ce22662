import { readFile } from 'node:fs/promises';
import { ConfigurationError } from '../core/errors.ts';
import type { Slot } from '../github/deployments.ts';
import { NginxUpstream, upstreamProblem } from '../routers/nginx-upstream.ts';
import { TARGET_EXAMPLE, type NginxTarget } from './target.ts';

export const otherSlot = (slot: Slot): Slot => (slot === 'blue' ? 'green' : 'blue');

/**
 * The two slots of a blue-green target. Which one is live is read from nginx's upstream block each
 * time, never remembered, so a hand edit or a revert from elsewhere is always seen. Switching goes
 * through the canary's NginxUpstream: atomic write, test, reload, old bytes back on failure.
 */
export class BlueGreenSlots {
  readonly config: NginxTarget;
  private readonly upstream: NginxUpstream;

  constructor(config: NginxTarget) {
    this.config = config;
    this.upstream = new NginxUpstream({
      configFile: config['config-file'],
      upstream: config.upstream,
      reloadCommand: config['reload-command'],
      testCommand: config['test-command'],
      passEnv: config.env,
    });
  }

  get description(): string {
    return this.upstream.description;
  }

  address(slot: Slot): string {
    return this.config[slot];
  }

  /** Checks the config file without changing it; a problem there is the user's to fix. */
  async check(): Promise<Slot> {
    const file = this.config['config-file'];
    const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new ConfigurationError('target', `cannot read config-file ${file} (${error.code ?? error.message})`, TARGET_EXAMPLE);
    });
    const problem = upstreamProblem(text, this.config.upstream);
    if (problem) throw new ConfigurationError('target', `config-file ${file} ${problem}`, TARGET_EXAMPLE);
    return this.liveSlot();
  }

  /** The slot that takes all traffic now; anything else (both, neither, a stranger) is refused. */
  async liveSlot(): Promise<Slot> {
    const servers = (await this.upstream.servers()).filter((s) => s.weight > 0).map((s) => s.address);
    const slots = (['blue', 'green'] as const).filter((slot) => servers.includes(this.address(slot)));
    const strangers = servers.filter((address) => address !== this.config.blue && address !== this.config.green);
    if (slots.length === 1 && strangers.length === 0) return slots[0]!;
    throw new ConfigurationError(
      'target',
      `upstream ${this.config.upstream} routes to ${servers.join(', ') || 'nothing'}; blue-green needs exactly one of blue (${this.config.blue}) or green (${this.config.green}) live` +
        (slots.length === 2 ? ' (a canary in progress?)' : ''),
      TARGET_EXAMPLE,
    );
  }

  /** Sends all traffic to `slot` in one reload; throws with nginx's words if it did not take. */
  async switchTo(slot: Slot, note: string): Promise<void> {
    await this.upstream.apply([{ address: this.address(slot), weight: 100 }], `${slot} live: ${note}`);
  }
}
