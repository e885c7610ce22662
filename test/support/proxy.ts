import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { requirePrograms } from './programs.ts';
import { freePort, waitFor } from './services.ts';

/**
 * A real forward proxy (Debian's squid) on 127.0.0.1 for the proxy tests. Its own `hosts_file`
 * resolves names the test process cannot (`*.shipgate.test`, a reserved TLD), so a request to such
 * a name succeeds only through the proxy; its access log lists every request that passed.
 */
export interface Squid {
  /** `http://127.0.0.1:port`, for HTTP_PROXY / HTTPS_PROXY. */
  url: string;
  /** The access log's lines: `METHOD URL STATUS`, e.g. `GET http://registry.shipgate.test:5000/v2/ 200`. */
  log(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startSquid(hosts: Record<string, string>): Promise<Squid> {
  requirePrograms('squid');
  const dir = await mkdtemp(join(tmpdir(), 'shipgate-squid-'));
  // squid drops root for its own user ("proxy"), which must be able to write its logs here.
  await chmod(dir, 0o777);
  const port = await freePort();
  const accessLog = join(dir, 'access.log');
  await writeFile(
    join(dir, 'hosts'),
    Object.entries(hosts)
      .map(([name, address]) => `${address} ${name}\n`)
      .join(''),
  );
  await writeFile(
    join(dir, 'squid.conf'),
    [
      `http_port 127.0.0.1:${port}`,
      `pid_filename ${join(dir, 'squid.pid')}`,
      // method, URL, status: enough to prove which requests passed through.
      'logformat shipgate %rm %ru %>Hs',
      `access_log stdio:${accessLog} shipgate`,
      `cache_log ${join(dir, 'cache.log')}`,
      `coredump_dir ${dir}`,
      `hosts_file ${join(dir, 'hosts')}`,
      // No resolver answers here: only hosts_file names exist for the proxy.
      'dns_nameservers 127.0.0.1',
      'cache deny all',
      'cache_mem 8 MB',
      'pinger_enable off',
      'shutdown_lifetime 0 seconds',
      'logfile_rotate 0',
      'buffered_logs off',
      'strip_query_terms off',
      'http_access allow all',
      '',
    ].join('\n'),
  );
  await writeFile(accessLog, '');
  await chmod(accessLog, 0o666);
  const child: ChildProcess = spawn('squid', ['-N', '-f', join(dir, 'squid.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c) => (stderr = (stderr + c).slice(-4000)));
  await waitFor(`squid (${stderr})`, async () => {
    if (child.exitCode !== null) throw new Error(`squid exited ${child.exitCode}: ${stderr}`);
    await new Promise<void>((done, fail) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        done();
      });
      socket.on('error', fail);
    });
    return true;
  });
  return {
    url: `http://127.0.0.1:${port}`,
    async log() {
      const text = await readFile(accessLog, 'utf8');
      return text.split('\n').filter(Boolean);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((done) => child.once('exit', done));
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(5000).then(() => child.kill('SIGKILL'))]);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
