import { Agent, request } from 'undici';

export interface Sample {
  /** Wall-clock milliseconds (Date.now scale, sub-ms precision) when the request was sent. */
  at: number;
  /** When the answer came back. */
  doneAt: number;
  status: number;
  /** The app version that answered (its x-version header); undefined if no app answered. */
  version: string | undefined;
  /** The server that answered (its x-instance header, host:port). */
  instance?: string;
  /** The request failed after the one retry an HTTP client makes for an idempotent request. */
  error?: string;
  retried: boolean;
}

const now = () => performance.timeOrigin + performance.now();
const RETRYABLE = /ECONNRESET|EPIPE|UND_ERR_SOCKET|other side closed|socket hang up/i;

/**
 * Steady open-loop HTTP load: `rps` GETs a second, whatever the latency, over keep-alive
 * connections. Like browsers and most clients, a request that meets a connection closed under it
 * (as an nginx reload does to idle keep-alive connections) is retried once; what still fails counts.
 */
export class LoadGenerator {
  readonly samples: Sample[] = [];
  private readonly agent = new Agent({ keepAliveTimeout: 30_000, connections: 64 });
  private timer: NodeJS.Timeout | undefined;
  private inflight = new Set<Promise<void>>();
  private readonly url: string;
  private readonly rps: number;

  constructor(url: string, rps: number) {
    this.url = url;
    this.rps = rps;
  }

  start(): void {
    const period = 1000 / this.rps;
    let next = now();
    const tick = () => {
      while (now() >= next) {
        const p = this.send().finally(() => this.inflight.delete(p));
        this.inflight.add(p);
        next += period;
      }
      this.timer = setTimeout(tick, Math.max(1, Math.min(period, next - now())));
    };
    tick();
  }

  async stop(): Promise<Sample[]> {
    clearTimeout(this.timer);
    await Promise.all(this.inflight);
    if (!this.agent.closed) await this.agent.close();
    return this.samples;
  }

  private async send(): Promise<void> {
    const at = now();
    let retried = false;
    for (;;) {
      try {
        const response = await request(this.url, { dispatcher: this.agent, headersTimeout: 10_000, bodyTimeout: 10_000 });
        await response.body.dump();
        const version = response.headers['x-version'];
        const instance = response.headers['x-instance'];
        this.samples.push({
          at,
          doneAt: now(),
          status: response.statusCode,
          version: typeof version === 'string' ? version : undefined,
          ...(typeof instance === 'string' ? { instance } : {}),
          retried,
        });
        return;
      } catch (error) {
        const message = error instanceof Error ? `${error.message} ${(error as { code?: string }).code ?? ''}` : String(error);
        if (!retried && RETRYABLE.test(message)) {
          retried = true;
          continue;
        }
        this.samples.push({ at, doneAt: now(), status: 0, version: undefined, error: message, retried });
        return;
      }
    }
  }
}

export interface TrafficStats {
  total: number;
  byVersion: Record<string, number>;
  /** Requests no app answered (connection errors, nginx 502/504): failures caused by routing. */
  routingFailures: number;
  appErrors: number;
  firstCanaryAt: number | undefined;
  lastCanaryAt: number | undefined;
}

export function trafficStats(samples: readonly Sample[], canary = 'canary'): TrafficStats {
  const byVersion: Record<string, number> = {};
  let routingFailures = 0;
  let appErrors = 0;
  let firstCanaryAt: number | undefined;
  let lastCanaryAt: number | undefined;
  for (const s of samples) {
    if (s.version === undefined) {
      routingFailures += 1;
      continue;
    }
    byVersion[s.version] = (byVersion[s.version] ?? 0) + 1;
    if (s.status >= 500) appErrors += 1;
    if (s.version === canary) {
      firstCanaryAt = Math.min(firstCanaryAt ?? Infinity, s.at);
      lastCanaryAt = Math.max(lastCanaryAt ?? -Infinity, s.at);
    }
  }
  return { total: samples.length, byVersion, routingFailures, appErrors, firstCanaryAt, lastCanaryAt };
}
