import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandSchema, runChecked, runCommand } from '../../src/core/command.ts';

describe('commandSchema', () => {
  it('splits a command line into argv, honouring quotes', () => {
    expect(commandSchema.parse(`nginx -s reload -g 'daemon off;'`)).toEqual(['nginx', '-s', 'reload', '-g', 'daemon off;']);
  });

  it('takes a YAML list as argv as it is', () => {
    expect(commandSchema.parse(['nginx', '-t', 5])).toEqual(['nginx', '-t', '5']);
  });

  it.each(['a; b', 'a && b', 'a | b', 'a > /etc/x', 'a $(b)', 'a `b`', 'a $HOME', 'rm *', 'a\nb'])('refuses shell syntax in %j', (line) => {
    const result = commandSchema.safeParse(line);
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.message).toMatch(/shell syntax/);
  });
});

describe('runCommand', () => {
  it('passes arguments literally: no shell sees them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shipgate-cmd-'));
    const target = join(dir, 'out');
    const result = await runCommand([
      process.execPath,
      '-e',
      'require("fs").writeFileSync(process.argv[1], process.argv[2])',
      target,
      '$(whoami); echo hi',
    ]);
    expect(result.code).toBe(0);
    expect(await readFile(target, 'utf8')).toBe('$(whoami); echo hi');
  });

  it('reports the exit code and the command’s own words', async () => {
    await expect(runChecked([process.execPath, '-e', 'console.error("config test failed"); process.exit(3)'])).rejects.toThrow(
      /exited 3: config test failed/,
    );
  });

  it('says when the program does not exist', async () => {
    await expect(runCommand(['shipgate-no-such-program'])).rejects.toThrow(/not found on PATH/);
  });
});
