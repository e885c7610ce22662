import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The Debian (and Ubuntu) package of each program the tests, the benches and the demo drive. */
export const PACKAGES = {
  nginx: 'nginx',
  prometheus: 'prometheus',
  haproxy: 'haproxy',
  'docker-registry': 'docker-registry',
  htpasswd: 'apache2-utils',
  skopeo: 'skopeo',
  buildah: 'buildah',
  squid: 'squid',
  openssl: 'openssl',
  git: 'git',
} as const;

export type Program = keyof typeof PACKAGES;

// Debian installs nginx and HAProxy in /usr/sbin, which a non-root user's PATH leaves out; the
// servers the tests start, and the commands the actions run, find them there too.
const path = (process.env.PATH ?? '').split(delimiter);
for (const dir of ['/usr/local/sbin', '/usr/sbin', '/sbin']) if (!path.includes(dir)) path.push(dir);
process.env.PATH = path.join(delimiter);

function installed(program: string): boolean {
  return path.some((dir) => {
    try {
      accessSync(join(dir, program), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** One line naming what is missing and the packages that bring it, or undefined when all are there. */
export function missingPrograms(programs: readonly Program[], install = 'scripts/install-packages test'): string | undefined {
  const missing = programs.filter((p) => !installed(p));
  if (missing.length === 0) return undefined;
  const packages = [...new Set(missing.map((p) => PACKAGES[p]))];
  return `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not installed: run ${install} (Debian packages: ${packages.join(' ')})`;
}

/** Throws that one line (no stack: there is nothing to debug) when a program is missing. */
export function requirePrograms(...programs: Program[]): void {
  const message = missingPrograms(programs);
  if (!message) return;
  const error = new Error(message);
  error.stack = `Error: ${message}`;
  throw error;
}
