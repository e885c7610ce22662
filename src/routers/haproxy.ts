import { connect } from 'node:net';
import { ConfigurationError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { logText } from '../core/untrusted.ts';
import { endpointLockKey, fileLockKey } from '../slots/lock.ts';
import { formatRecord, parseRecord, type RouterRecord } from '../slots/record.ts';
import { fingerprint, type RouterSnapshot, type ServerState, type WeightedRouter } from './router.ts';

/**
 * Sends one line to HAProxy's runtime API and returns its answer (the socket closes after it).
 * Deliberately deaf to the run's cancellation: putting traffic back on stable happens after it.
 */
export function haproxyCommand(socket: string, command: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const hostPortMatch = /^(.*):(\d+)$/.exec(socket);
    const connection = socket.startsWith('/')
      ? connect(socket)
      : connect(Number(hostPortMatch![2]), hostPortMatch![1]!.replace(/^\[|\]$/g, ''));
    let answer = '';
    connection.setTimeout(timeoutMs, () => connection.destroy(new Error(`no answer from ${socket} within ${timeoutMs}ms`)));
    connection.on('connect', () => connection.end(`${command}\n`));
    connection.on('data', (chunk) => (answer += chunk.toString('utf8')));
    connection.on('error', (error) => reject(new Error(`HAProxy runtime API at ${socket}: ${error.message}`)));
    connection.on('close', (hadError) => hadError || resolve(answer.trim()));
  });
}

export interface HaproxyBackendOptions {
  socket: string;
  backend: string;
  /** The server names Shipgate owns in the backend: their weights are its to set. */
  owned: readonly string[];
  logger: Logger;
}

/** A bit of srv_admin_state other than "set by DNS" means the server is in maintenance: it carries nothing. */
const MAINTENANCE = 0x1f;

/**
 * A backend driven over HAProxy's runtime API: `set weight` per server (no reload, no connection
 * closed), server addresses read from `show servers state`, and the router record kept in a
 * process variable (`set var`, experimental in HAProxy 2.4+). A restart loses the record, never
 * the weights' meaning: then the record is rebuilt from GitHub's and the next write's truth.
 */
export class HaproxyBackend implements WeightedRouter {
  readonly maxWeight = 256;
  readonly keepsRecord = true;
  private readonly options: HaproxyBackendOptions;
  private readonly variable: string;

  constructor(options: HaproxyBackendOptions) {
    this.options = options;
    this.variable = `proc.shipgate_${options.backend.replace(/[^A-Za-z0-9_]/g, '_')}`;
  }

  get description(): string {
    return `HAProxy backend ${this.options.backend} via ${this.options.socket}`;
  }

  lockKey(): Promise<string> {
    const { socket } = this.options;
    return socket.startsWith('/') ? fileLockKey(socket) : Promise.resolve(endpointLockKey(socket));
  }

  async check(input: string, example: string): Promise<void> {
    try {
      await this.read();
    } catch (error) {
      throw new ConfigurationError(input, (error as Error).message, example);
    }
  }

  private command(line: string): Promise<string> {
    return haproxyCommand(this.options.socket, line).catch((error: Error) => {
      throw new Error(`cannot reach the runtime API (${error.message})`, { cause: error });
    });
  }

  async read(): Promise<RouterSnapshot> {
    const { backend, owned } = this.options;
    const [state, variable] = await Promise.all([this.command(`show servers state ${backend}`), this.command(`get var ${this.variable}`)]);
    const lines = state.split('\n');
    const header = lines.find((l) => l.startsWith('# be_id'));
    if (!header) throw new Error(`HAProxy has no backend ${backend} (${logText(state || 'no answer', 200)})`);
    const columns = header.slice(2).trim().split(/\s+/);
    const column = (row: string[], name: string) => row[columns.indexOf(name)] ?? '';
    const rows = lines.filter((l) => /^\d/.test(l) && l.includes(' ')).map((l) => l.trim().split(/\s+/));
    const servers = new Map<string, ServerState>();
    for (const name of owned) {
      const row = rows.find((r) => column(r, 'srv_name') === name);
      if (!row) throw new Error(`HAProxy has no server ${backend}/${name}`);
      const host = column(row, 'srv_addr');
      const address = `${host.includes(':') ? `[${host}]` : host}:${column(row, 'srv_port')}`;
      const maintenance = (Number(column(row, 'srv_admin_state')) & MAINTENANCE) !== 0;
      servers.set(name, { id: name, address, weight: maintenance ? 0 : Number(column(row, 'srv_uweight')) });
    }
    const weights = new Map([...servers].map(([id, s]) => [id, s.weight]));
    const value = /^proc\.\S+: type=str value=<(.*)>$/s.exec(variable)?.[1];
    const snapshot: RouterSnapshot = {
      servers,
      fingerprint: fingerprint(weights, value),
      ...(value === undefined ? {} : { recordText: value }),
    };
    if (value === undefined) {
      return /not found/i.test(variable) || variable === ''
        ? snapshot
        : { ...snapshot, recordProblem: `HAProxy keeps no record (${logText(variable, 200)})` };
    }
    const parsed = parseRecord(value);
    return 'problem' in parsed
      ? { ...snapshot, recordProblem: `${parsed.problem} in "${logText(value, 200)}"` }
      : { ...snapshot, record: parsed.record };
  }

  async write(weights: ReadonlyMap<string, number>, record: RouterRecord | undefined): Promise<void> {
    const { backend } = this.options;
    const line = [...weights].map(([name, weight]) => `set weight ${backend}/${name} ${weight}`).join('; ');
    const answer = await this.command(line);
    if (answer !== '') throw new Error(`HAProxy refused the weights: ${logText(answer.replace(/\s+/g, ' '), 300)}`);
    if (!record) return;
    // Checked values only (no space, `%`, `\` or `;`): the record's spaces are escaped for the CLI's parser.
    const said = await this.command(`experimental-mode on; set var ${this.variable} fmt ${formatRecord(record).replaceAll(' ', '\\ ')}`);
    if (said !== '') this.options.logger.warning(`HAProxy did not keep the router record: ${logText(said.replace(/\s+/g, ' '), 300)}`);
  }
}
