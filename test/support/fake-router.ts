import { fingerprint, type RouterSnapshot, type WeightedRouter } from '../../src/routers/router.ts';
import { formatRecord, parseRecord, type RouterRecord } from '../../src/slots/record.ts';

/** A router in memory: weights per server and a record text, with every write kept. */
export class FakeRouter implements WeightedRouter {
  readonly description = 'fake router';
  readonly maxWeight = 256;
  readonly keepsRecord = true;
  weights: Map<string, number>;
  recordText: string | undefined;
  readonly writes: Array<{ weights: Map<string, number>; record: string | undefined }> = [];
  readonly key: string;

  constructor(weights: Record<string, number>, key: string, record?: RouterRecord) {
    this.weights = new Map(Object.entries(weights));
    this.recordText = record && formatRecord(record);
    this.key = key;
  }

  async lockKey(): Promise<string> {
    return this.key;
  }

  async check(): Promise<void> {}

  async read(): Promise<RouterSnapshot> {
    const servers = new Map([...this.weights].map(([id, weight]) => [id, { id, address: id, weight }]));
    const parsed = this.recordText === undefined ? undefined : parseRecord(this.recordText);
    return {
      servers,
      fingerprint: fingerprint(this.weights, this.recordText),
      ...(this.recordText !== undefined ? { recordText: this.recordText } : {}),
      ...(parsed && 'record' in parsed ? { record: parsed.record } : {}),
      ...(parsed && 'problem' in parsed ? { recordProblem: parsed.problem } : {}),
    };
  }

  async write(weights: ReadonlyMap<string, number>, record: RouterRecord | undefined): Promise<void> {
    for (const [id, weight] of weights) this.weights.set(id, weight);
    if (record) this.recordText = formatRecord(record);
    this.writes.push({ weights: new Map(weights), record: record && formatRecord(record) });
  }

  /** Someone else's change, straight to the router. */
  meddle(weights: Record<string, number>, record?: RouterRecord): void {
    for (const [id, weight] of Object.entries(weights)) this.weights.set(id, weight);
    if (record) this.recordText = formatRecord(record);
  }
}
