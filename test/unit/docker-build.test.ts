import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.ts';
import { buildAndPushDocker, type DockerBuild } from '../../src/image/docker-build.ts';

// A fake `docker` on PATH that does what the real client does with credentials (writes them to
// $DOCKER_CONFIG/config.json, else ~/.docker/config.json) and records where each call wrote.
const FAKE_DOCKER = (record: string) => `#!/bin/sh
config="\${DOCKER_CONFIG:-$HOME/.docker}"
echo "$1 $config" >> ${record}
case "$1" in
  login)
    password=$(cat)
    mkdir -p "$config"
    printf '{"auths":{"%s":{"auth":"%s"}}}' "$2" "$(printf 'user:%s' "$password" | base64)" > "$config/config.json"
    ;;
  buildx)
    [ -f "$config/config.json" ] && cp "$config/config.json" ${record}.seen-by-buildx
    while [ $# -gt 0 ]; do
      if [ "$1" = --metadata-file ]; then printf '{"containerimage.digest":"sha256:%064d"}' 0 > "$2"; fi
      if [ "$1" = --label ] && [ "$2" = fail=yes ]; then echo "ERROR: failed to push" >&2; exit 1; fi
      shift
    done
    ;;
esac
`;

let dir: string;
let home: string;
let runnerTemp: string;
let record: string;
const saved = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  RUNNER_TEMP: process.env.RUNNER_TEMP,
  DOCKER_CONFIG: process.env.DOCKER_CONFIG,
};

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shipgate-docker-'));
  home = join(dir, 'home');
  runnerTemp = join(dir, 'runner-temp');
  record = join(dir, 'record');
  await mkdir(join(home, '.docker', 'buildx'), { recursive: true });
  await mkdir(runnerTemp);
  await writeFile(
    join(home, '.docker', 'config.json'),
    JSON.stringify({ auths: { 'other.example': { auth: 'b3RoZXI6cHc=' } }, credsStore: 'desktop' }),
  );
  await mkdir(join(dir, 'bin'));
  await writeFile(join(dir, 'bin', 'docker'), FAKE_DOCKER(record));
  await chmod(join(dir, 'bin', 'docker'), 0o755);
  Object.assign(process.env, { PATH: `${join(dir, 'bin')}:${saved.PATH}`, HOME: home, RUNNER_TEMP: runnerTemp });
  delete process.env.DOCKER_CONFIG;
});

afterEach(async () => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  await rm(dir, { recursive: true, force: true });
});

const build = (labels: Record<string, string> = {}): DockerBuild => ({
  image: 'registry.example/app',
  registry: 'registry.example',
  context: dir,
  file: join(dir, 'Dockerfile'),
  buildArgs: [],
  platforms: [],
  tags: ['v1'],
  labels,
  credentials: { username: 'user', password: 'hunter2-secret' },
  logger: silentLogger,
});

describe('docker login for the docker builder', () => {
  it('writes the password to a temporary DOCKER_CONFIG that buildx uses and that is gone afterwards', async () => {
    const before = await readFile(join(home, '.docker', 'config.json'), 'utf8');
    expect(await buildAndPushDocker(build())).toEqual({ digest: `sha256:${'0'.repeat(64)}` });
    const calls = (await readFile(record, 'utf8')).trim().split('\n');
    expect(calls.map((c) => c.split(' ')[0])).toEqual(['login', 'buildx']);
    const loginConfig = calls[0]!.split(' ')[1]!;
    expect(loginConfig.startsWith(runnerTemp)).toBe(true);
    expect(calls[1]!.split(' ')[1]).toBe(loginConfig);
    // buildx saw the login, and the user's other registries, without the credential store
    const seen = JSON.parse(await readFile(`${record}.seen-by-buildx`, 'utf8')) as { auths: Record<string, unknown> };
    expect(Object.keys(seen.auths)).toContain('registry.example');
    expect(await readFile(join(home, '.docker', 'config.json'), 'utf8')).toBe(before);
    expect(before).not.toContain(Buffer.from('user:hunter2-secret').toString('base64'));
    expect(await readdir(runnerTemp)).toEqual([]);
  });

  it('removes the temporary config when the build fails', async () => {
    await expect(buildAndPushDocker(build({ fail: 'yes' }))).rejects.toThrow(/exited 1: ERROR: failed to push/);
    expect(await readdir(runnerTemp)).toEqual([]);
    expect(await readFile(join(home, '.docker', 'config.json'), 'utf8')).not.toContain('registry.example');
  });
});
