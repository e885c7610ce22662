import { readFile } from 'node:fs/promises';
import { replaceFileTransactionally } from '../core/atomic-file.ts';
import { runChecked } from '../core/command.ts';

/** One `server` line of an upstream block. */
export interface UpstreamServer {
  address: string;
  weight: number;
}

interface Block {
  start: number;
  end: number;
  body: string;
}

function findBlock(text: string, upstream: string): Block | string {
  const opening = new RegExp(`(^|[\\s;}])upstream\\s+${upstream.replace(/\./g, '\\.')}\\s*\\{`, 'g');
  const matches = [...text.matchAll(opening)];
  if (matches.length === 0) return `holds no "upstream ${upstream} { … }" block`;
  if (matches.length > 1) return `holds ${matches.length} "upstream ${upstream}" blocks; Shipgate manages exactly one`;
  const bodyStart = matches[0]!.index! + matches[0]![0].length;
  const close = text.indexOf('}', bodyStart);
  if (close < 0) return `has an "upstream ${upstream}" block that is never closed`;
  return { start: bodyStart, end: close, body: text.slice(bodyStart, close) };
}

/** Says what is wrong with the file for Shipgate to manage `upstream`, or undefined if nothing. */
export function upstreamProblem(text: string, upstream: string): string | undefined {
  const block = findBlock(text, upstream);
  return typeof block === 'string' ? block : undefined;
}

/** The server lines of the block, with nginx's default weight of 1; `down`/`backup` servers carry no traffic. */
export function readServers(text: string, upstream: string): UpstreamServer[] {
  const block = findBlock(text, upstream);
  if (typeof block === 'string') throw new Error(block);
  const servers: UpstreamServer[] = [];
  for (const match of block.body.matchAll(/(?:^|[;\s])server\s+([^\s;]+)([^;]*);/g)) {
    const params = match[2]!.trim().split(/\s+/);
    if (params.includes('down') || params.includes('backup')) continue;
    const weight = params.find((p) => p.startsWith('weight='));
    servers.push({ address: match[1]!, weight: weight ? Number(weight.slice('weight='.length)) : 1 });
  }
  return servers;
}

/**
 * The file with the block's server lines replaced by `servers` (servers of weight 0 left out).
 * Other directives in the block (keepalive, hashing) and everything outside it are kept as they are.
 */
export function renderServers(text: string, upstream: string, servers: readonly UpstreamServer[], note: string): string {
  const block = findBlock(text, upstream);
  if (typeof block === 'string') throw new Error(block);
  const kept = block.body
    .replace(/#[^\n]*/g, '')
    .split(';')
    .map((statement) => statement.trim())
    .filter((statement) => statement !== '' && !/^server\s/.test(statement))
    .map((statement) => `    ${statement};`);
  const lines = servers.filter((s) => s.weight > 0).map((s) => `    server ${s.address} weight=${s.weight};`);
  const body = `\n    # managed by shipgate: ${note}\n${[...lines, ...kept].join('\n')}\n`;
  return text.slice(0, block.start) + body + text.slice(block.end);
}

export interface NginxUpstreamOptions {
  configFile: string;
  upstream: string;
  reloadCommand: readonly string[];
  testCommand?: readonly string[] | undefined;
  /** Variables the user named for these commands (`env:`). */
  passEnv?: readonly string[];
}

/**
 * One upstream block in a file that nginx includes. Every change is written atomically, checked by
 * the test command, then reloaded; if either fails the previous bytes are put back.
 */
export class NginxUpstream {
  private readonly options: NginxUpstreamOptions;

  constructor(options: NginxUpstreamOptions) {
    this.options = options;
  }

  get description(): string {
    return `nginx upstream ${this.options.upstream} in ${this.options.configFile}`;
  }

  async read(): Promise<string> {
    return readFile(this.options.configFile, 'utf8');
  }

  async servers(): Promise<UpstreamServer[]> {
    return readServers(await this.read(), this.options.upstream);
  }

  async apply(servers: readonly UpstreamServer[], note: string): Promise<void> {
    const { configFile, upstream, reloadCommand, testCommand, passEnv } = this.options;
    const next = renderServers(await this.read(), upstream, servers, note);
    await replaceFileTransactionally(configFile, next, async () => {
      if (testCommand) await runChecked(testCommand, { timeoutMs: 30_000, passEnv });
      await runChecked(reloadCommand, { timeoutMs: 30_000, passEnv });
    });
  }
}
