import { describe, expect, it } from 'vitest';
import { logText, markdownCode, markdownText, neutralizeCommands } from '../../src/core/untrusted.ts';

describe('untrusted text', () => {
  const hostile = 'app:v1\n::error title=Spoofed::owned\r\n    server 127.0.0.1:21666 weight=100;';

  it('keeps a value on one log line, so it cannot start a workflow command', () => {
    const shown = logText(hostile);
    expect(shown).not.toMatch(/[\r\n]/);
    expect(shown).toBe('app:v1\\n::error title=Spoofed::owned\\r\\n    server 127.0.0.1:21666 weight=100;');
  });

  it('cuts long values', () => {
    expect(logText('x'.repeat(1000), 10)).toBe(`${'x'.repeat(10)}…`);
  });

  it('defuses any log line that would read as a command, after leading spaces too', () => {
    expect(neutralizeCommands('ok\n::error::x\n  ::warning::y')).toBe('ok\n\u200b::error::x\n  \u200b::warning::y');
    expect(neutralizeCommands('a :: b')).toBe('a :: b');
  });

  it('escapes Markdown and HTML so a value adds no link, image, heading or row', () => {
    const md = markdownText('# Title | [click](http://evil) ![x](y) <img src=x>\nnext');
    expect(md).toBe('\\# Title \\| \\[click\\]\\(http://evil\\) \\!\\[x\\]\\(y\\) &lt;img src=x&gt;\\\\nnext');
    expect(md).not.toMatch(/[\n<>]/);
  });

  it('shows a value as code with its backticks replaced', () => {
    expect(markdownCode('a`b')).toBe('`aˋb`');
  });
});
