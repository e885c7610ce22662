import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { requirePrograms } from './programs.ts';
import { repoRoot } from './runner.ts';

/** Real servers for end-to-end tests, all on 127.0.0.1 and all stopped by `stopAll`. */
const children = new Set<ChildProcess>();

export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((child) => stop(child)));
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(3000).then(() => child.kill('SIGKILL'))]);
  children.delete(child);
}

function start(command: string, args: string[], name: string): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (c) => (log = (log + c).slice(-4000)));
  child.stderr!.on('data', (c) => (log = (log + c).slice(-4000)));
  child.on('exit', (code) => {
    if (code && children.has(child)) console.error(`${name} exited ${code}: ${log}`);
  });
  children.add(child);
  return child;
}

const handedOut = new Set<number>();

/**
 * A port nothing listens on, never one this process handed out before: the kernel may offer a port
 * again as soon as it is closed, and two servers of one lab on the same address would be one
 * Prometheus target, not two.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
      server.on('error', reject);
    });
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function httpOk(url: string): Promise<true | undefined> {
  const response = await request(url);
  await response.body.dump();
  return response.statusCode < 500 ? true : undefined;
}

export type AppMode = 'healthy' | 'crash' | 'errors' | 'slow' | 'silent';

export interface App {
  address: string;
  stop(): Promise<void>;
  /** Stops the process and starts a new one on the same port: its counters start again at zero. */
  restart(): Promise<void>;
  /** What this process has served since it started, as it counts it. */
  served(): Promise<{ requests: number; failures: number }>;
}

export interface AppOptions {
  errorRate?: number;
  latencyMs?: number;
  /** A log-normal latency on every answer around this median (ms), with sigma `spread`. */
  medianMs?: number;
  spread?: number;
  /** Export a status code's counter only once it has been served (no failure series before the first failure). */
  lazyCounters?: boolean;
}

export async function startApp(version: string, mode: AppMode = 'healthy', options: AppOptions = {}): Promise<App> {
  const port = await freePort();
  const args = [join(repoRoot, 'test/fixtures/app.mjs'), '--port', String(port), '--mode', mode, '--version', version];
  if (options.errorRate !== undefined) args.push('--error-rate', String(options.errorRate));
  if (options.latencyMs !== undefined) args.push('--latency-ms', String(options.latencyMs));
  if (options.medianMs !== undefined) args.push('--median-ms', String(options.medianMs), '--spread', String(options.spread ?? 0.5));
  if (options.lazyCounters) args.push('--lazy-counters');
  const launch = async () => {
    const child = start(process.execPath, args, `app ${version}`);
    await waitFor(`app ${version}`, () => httpOk(`http://127.0.0.1:${port}/healthz`));
    return child;
  };
  let child = await launch();
  return {
    address: `127.0.0.1:${port}`,
    stop: () => stop(child),
    async restart() {
      await stop(child);
      child = await launch();
    },
    async served() {
      const response = await request(`http://127.0.0.1:${port}/served`);
      return (await response.body.json()) as { requests: number; failures: number };
    },
  };
}

export interface Nginx {
  url: string;
  /** The file holding `upstream app { … }`, included by nginx.conf. */
  upstreamFile: string;
  configFile: string;
  reloadCommand: string[];
  testCommand: string[];
  stop(): Promise<void>;
}

/** nginx in the foreground with its own prefix, proxying to `upstream app` from its own file. */
export async function startNginx(initialServers: string[]): Promise<Nginx> {
  requirePrograms('nginx');
  const prefix = await mkdtemp(join(tmpdir(), 'shipgate-nginx-'));
  const port = await freePort();
  const upstreamFile = join(prefix, 'upstream.conf');
  const configFile = join(prefix, 'nginx.conf');
  await writeFile(upstreamFile, `upstream app {\n${initialServers.map((s) => `    server ${s};`).join('\n')}\n    keepalive 32;\n}\n`);
  await writeFile(
    configFile,
    `worker_processes 1;
error_log ${prefix}/error.log warn;
pid ${prefix}/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  include ${upstreamFile};
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`,
  );
  const base = ['-p', prefix, '-c', configFile];
  execFileSync('nginx', [...base, '-t', '-q']);
  const child = start('nginx', [...base, '-g', 'daemon off; user root root;'], 'nginx');
  await waitFor('nginx', () => httpOk(`http://127.0.0.1:${port}/healthz`));
  return {
    url: `http://127.0.0.1:${port}`,
    upstreamFile,
    configFile,
    reloadCommand: ['nginx', ...base, '-g', 'user root root;', '-s', 'reload'],
    testCommand: ['nginx', ...base, '-g', 'daemon off; user root root;', '-t', '-q'],
    stop: () => stop(child),
  };
}

export interface PrometheusTarget {
  address: string;
  labels: Record<string, string>;
}

export interface Prometheus {
  url: string;
  stop(): Promise<void>;
  query(q: string): Promise<number | undefined>;
}

/** Prometheus scraping the targets every second; resolves once every target has been scraped. */
export async function startPrometheus(targets: PrometheusTarget[], scrapeInterval = '1s'): Promise<Prometheus> {
  requirePrograms('prometheus');
  const dir = await mkdtemp(join(tmpdir(), 'shipgate-prometheus-'));
  const port = await freePort();
  const config = {
    global: { scrape_interval: scrapeInterval, evaluation_interval: scrapeInterval },
    scrape_configs: [{ job_name: 'app', static_configs: targets.map((t) => ({ targets: [t.address], labels: t.labels })) }],
  };
  await writeFile(join(dir, 'prometheus.yml'), JSON.stringify(config));
  const child = start(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    'prometheus',
  );
  const url = `http://127.0.0.1:${port}`;
  const query = async (q: string) => {
    const response = await request(`${url}/api/v1/query?${new URLSearchParams({ query: q })}`);
    const body = (await response.body.json()) as { data?: { result: Array<{ value: [number, string] }> } };
    const sample = body.data?.result[0];
    return sample ? Number(sample.value[1]) : undefined;
  };
  await waitFor('Prometheus', () => httpOk(`${url}/-/ready`), 30_000);
  // The first scrape lands a few seconds after start; gating before it would only see silence.
  await waitFor(
    'the first scrape of every target',
    async () => ((await query('count(up)')) === targets.length ? true : undefined),
    30_000,
  ).catch(async (error: Error) => {
    // Say what Prometheus saw, so a failure here can be told apart from a slow start.
    const seen = await request(`${url}/api/v1/targets`)
      .then((r) => r.body.text())
      .catch((e: Error) => e.message);
    throw new Error(
      `${error.message} (${targets.length} targets: ${targets.map((t) => t.address).join(', ')}; Prometheus: ${seen.slice(0, 1500)})`,
    );
  });
  return { url, query, stop: () => stop(child) };
}
