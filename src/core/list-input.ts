/**
 * A list input, one item a line; with `commas`, also comma-separated on a line, as
 * docker/build-push-action reads `tags`. Blank items and `#` comment lines are dropped.
 */
export function parseList(text: string, options: { commas: boolean }): string[] {
  return text
    .split(/\r?\n/)
    .filter((line) => !line.trim().startsWith('#'))
    .flatMap((line) => (options.commas ? line.split(',') : [line]))
    .map((item) => item.trim())
    .filter((item) => item !== '');
}
