/**
 * Text Shipgate did not write (GitHub records, Prometheus label values, command output, error
 * bodies from registries and APIs) is shown through these, so it can neither start a workflow
 * command in the log nor add links, images, headings, HTML or rows to a job summary.
 */

const LIMIT = 500;

/**
 * One log-safe fragment: control characters are shown escaped (`\n`), so the value can never end
 * the line it is on and start a `::command::` of its own, and long values are cut.
 */
export function logText(value: string, max = LIMIT): string {
  // eslint-disable-next-line no-control-regex
  const flat = value.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/**
 * The runner reads a line as a workflow command when it starts with `::` after leading
 * whitespace. A zero-width space in front keeps such a line plain text; the logger applies this to
 * every line, as the last guard behind `logText`.
 */
export function neutralizeCommands(message: string): string {
  return message.replace(/^(\s*)::/gm, '$1\u200b::');
}

const MARKDOWN_SPECIAL = /[\\`*_{}[\]()#+!|~<>&"]/g;
const HTML_ENTITY: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' };

/**
 * Plain text for Markdown (job summaries, issue bodies): one line, every character that Markdown
 * or HTML would read as syntax escaped, so an untrusted value stays the words it is.
 */
export function markdownText(value: string, max = LIMIT): string {
  const line = logText(value, max);
  return line.replace(MARKDOWN_SPECIAL, (c) => HTML_ENTITY[c] ?? `\\${c}`);
}

/** A value shown as code in Markdown: backticks cannot be escaped inside a code span, so they are replaced. */
export function markdownCode(value: string, max = LIMIT): string {
  const line = logText(value, max).replace(/`/g, 'ˋ');
  return `\`${line}\``;
}
