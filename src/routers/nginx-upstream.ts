import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { runChecked } from '../core/command.ts';
import { ConfigurationError } from '../core/errors.ts';
import { logText } from '../core/untrusted.ts';
import { formatRecord, parseRecord, type RouterRecord } from '../slots/record.ts';
import { fileLockKey } from '../slots/lock.ts';
import { editUpstream, findUpstream, type UpstreamBlock } from './nginx-config.ts';
import { fingerprint, type RouterSnapshot, type ServerState, type WeightedRouter } from './router.ts';

export interface NginxUpstreamOptions {
  configFile: string;
  upstream: string;
  /** The `host:port` servers Shipgate owns in the block: their weight and `down` flag are its to set. */
  owned: readonly string[];
  reloadCommand: readonly string[];
  testCommand?: readonly string[] | undefined;
  /** Variables the user named for these commands (`env:`). */
  passEnv?: readonly string[];
}

// write-file-atomic (CommonJS) hashes __filename into its temp file names when it writes, and
// an ES module bundle defines none: give it this module's own.
(globalThis as { __filename?: string }).__filename ??= fileURLToPath(import.meta.url);

const RECORD = /^#\s*shipgate:\s?(.*)$/;
/** What versions before the router record wrote; replaced by the record on the first write. */
const OLD_NOTE = /^#\s*managed by shipgate:/;
const isRecordComment = (comment: string) => RECORD.test(comment) || OLD_NOTE.test(comment);

/**
 * One upstream block in a file nginx includes. Every change is written atomically to the real file
 * (a symlink stays a symlink), checked by the test command, then reloaded; if either fails the
 * previous bytes are put back. Only the owned servers' weights, their `down` flags and the record
 * comment ever change.
 */
export class NginxUpstream implements WeightedRouter {
  readonly maxWeight = 1000;
  readonly keepsRecord = true;
  private readonly options: NginxUpstreamOptions;

  constructor(options: NginxUpstreamOptions) {
    this.options = options;
  }

  get description(): string {
    return `nginx upstream ${this.options.upstream} in ${this.options.configFile}`;
  }

  lockKey(): Promise<string> {
    return fileLockKey(this.options.configFile);
  }

  async check(input: string, example: string): Promise<void> {
    const file = this.options.configFile;
    const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new ConfigurationError(input, `cannot read config-file ${file} (${error.code ?? error.message})`, example);
    });
    const problem = this.problem(text);
    if (problem) throw new ConfigurationError(input, `config-file ${file} ${problem}`, example);
  }

  async read(): Promise<RouterSnapshot> {
    return this.snapshot(await readFile(this.options.configFile, 'utf8'));
  }

  async write(weights: ReadonlyMap<string, number>, record: RouterRecord | undefined): Promise<void> {
    const { configFile, reloadCommand, testCommand, passEnv } = this.options;
    const previous = await readFile(configFile, 'utf8');
    const block = this.block(previous);
    const next = editUpstream(
      previous,
      block,
      [...weights].map(([address, weight]) => ({ address, weight })),
      record && { text: `# shipgate: ${formatRecord(record)}`, isRecord: isRecordComment },
    );
    if (next === previous) return;
    // Loaded here, not at start: most steps that start never write the file.
    const { default: writeFileAtomic } = await import('write-file-atomic');
    await writeFileAtomic(configFile, next);
    try {
      if (testCommand) await runChecked(testCommand, { timeoutMs: 30_000, ...(passEnv ? { passEnv } : {}) });
      await runChecked(reloadCommand, { timeoutMs: 30_000, ...(passEnv ? { passEnv } : {}) });
    } catch (error) {
      await writeFileAtomic(configFile, previous);
      throw error;
    }
  }

  /** What is wrong with the file for Shipgate to manage the block, or undefined. */
  private problem(text: string): string | undefined {
    try {
      this.snapshot(text);
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  }

  private block(text: string): UpstreamBlock {
    const block = findUpstream(text, this.options.upstream);
    if (typeof block === 'string') throw new Error(block);
    return block;
  }

  private snapshot(text: string): RouterSnapshot {
    const { upstream, owned } = this.options;
    const block = this.block(text);
    const servers = new Map<string, ServerState>();
    for (const address of owned) {
      const lines = block.servers.filter((s) => s.address === address && !s.backup);
      if (lines.length > 1) throw new Error(`has ${lines.length} "server ${address}" lines in upstream ${upstream}; Shipgate sets one`);
      const line = lines[0];
      servers.set(address, { id: address, address, weight: !line || line.down ? 0 : line.weight });
    }
    const strangers = block.servers.filter((s) => !s.backup && !s.down && !owned.includes(s.address));
    if (strangers.length) {
      throw new Error(
        `routes upstream ${upstream} to ${strangers.map((s) => logText(s.address, 80)).join(', ')}, which Shipgate does not own: list it in a pool, or mark it backup or down`,
      );
    }
    const records = block.comments.map((c) => RECORD.exec(c.text)?.[1]).filter((r): r is string => r !== undefined);
    const weights = new Map([...servers].map(([id, s]) => [id, s.weight]));
    const snapshot: RouterSnapshot = {
      servers,
      fingerprint: fingerprint(weights, records[0]),
      ...(records.length ? { recordText: records[0]! } : {}),
    };
    if (records.length > 1) return { ...snapshot, recordProblem: `upstream ${upstream} holds ${records.length} shipgate records` };
    if (records.length === 1) {
      const parsed = parseRecord(records[0]!);
      if ('problem' in parsed) return { ...snapshot, recordProblem: `${parsed.problem} in "${logText(records[0]!, 200)}"` };
      return { ...snapshot, record: parsed.record };
    }
    return snapshot;
  }
}
