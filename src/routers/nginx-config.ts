/**
 * Just enough of nginx's configuration syntax to find one `upstream NAME { … }` block and change
 * the weight and `down` flag of the servers Shipgate owns in it, leaving every other byte of the
 * file as the user wrote it: their backup and down servers, server parameters (`max_fails`,
 * `slow_start`…), comments (a `}` or `;` inside one included), quoting and layout.
 */

export type TokenKind = 'word' | 'string' | 'comment' | ';' | '{' | '}';

export interface Token {
  kind: TokenKind;
  /** The token's text: a word as written, a string without its quotes, a comment with its `#`. */
  text: string;
  start: number;
  end: number;
}

/** Splits nginx configuration into tokens as ngx_conf_parse reads it. Throws on an unclosed quote. */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '#') {
      const end = source.indexOf('\n', i);
      const stop = end < 0 ? source.length : end;
      tokens.push({ kind: 'comment', text: source.slice(i, stop), start: i, end: stop });
      i = stop;
    } else if (c === ';' || c === '{' || c === '}') {
      tokens.push({ kind: c, text: c, start: i, end: i + 1 });
      i++;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      let text = '';
      while (j < source.length && source[j] !== c) {
        if (source[j] === '\\' && j + 1 < source.length) j++;
        text += source[j];
        j++;
      }
      if (j >= source.length) throw new Error(`a quote opened at offset ${i} is never closed`);
      tokens.push({ kind: 'string', text, start: i, end: j + 1 });
      i = j + 1;
    } else {
      let j = i;
      while (j < source.length && !/[\s;{}]/.test(source[j]!)) {
        // `${name}` is a variable, not a block: its braces belong to the word.
        if (source[j] === '$' && source[j + 1] === '{') {
          const close = source.indexOf('}', j);
          j = close < 0 ? source.length : close + 1;
        } else if (source[j] === '\\' && j + 1 < source.length) {
          j += 2;
        } else {
          j++;
        }
      }
      tokens.push({ kind: 'word', text: source.slice(i, j), start: i, end: j });
      i = j;
    }
  }
  return tokens;
}

/** One `server` directive of the block, with where each of its parts sits in the file. */
export interface ServerDirective {
  address: string;
  addressToken: Token;
  /** The parameters after the address, in order. */
  params: Token[];
  /** The `;` that ends it. */
  end: Token;
  /** The first token of the directive (`server`). */
  start: Token;
  weight: number;
  down: boolean;
  backup: boolean;
}

export interface UpstreamBlock {
  open: Token;
  close: Token;
  servers: ServerDirective[];
  /** Comments directly inside the block (not inside a nested block), in order. */
  comments: Token[];
}

/** Finds the one `upstream NAME` block; a string says what is wrong when there is not exactly one. */
export function findUpstream(source: string, upstream: string): UpstreamBlock | string {
  let tokens: Token[];
  try {
    tokens = tokenize(source);
  } catch (error) {
    return `cannot be read as nginx configuration (${(error as Error).message})`;
  }
  const code = tokens.filter((t) => t.kind !== 'comment');
  const blocks: UpstreamBlock[] = [];
  let statementStart = 0;
  for (let i = 0; i < code.length; i++) {
    const token = code[i]!;
    if (token.kind === ';' || token.kind === '}') {
      statementStart = i + 1;
      continue;
    }
    if (token.kind !== '{') continue;
    const words = code.slice(statementStart, i);
    statementStart = i + 1;
    if (words.length !== 2 || words[0]!.kind !== 'word' || words[0]!.text !== 'upstream' || words[1]!.text !== upstream) continue;
    const close = matchingClose(code, i);
    if (close === undefined) return `has an "upstream ${upstream}" block that is never closed`;
    blocks.push(readBlock(tokens, token, code[close]!));
  }
  if (blocks.length === 0) return `holds no "upstream ${upstream} { … }" block`;
  if (blocks.length > 1) return `holds ${blocks.length} "upstream ${upstream}" blocks; Shipgate manages exactly one`;
  return blocks[0]!;
}

function matchingClose(code: Token[], open: number): number | undefined {
  let depth = 0;
  for (let i = open; i < code.length; i++) {
    if (code[i]!.kind === '{') depth++;
    else if (code[i]!.kind === '}' && --depth === 0) return i;
  }
  return undefined;
}

function readBlock(tokens: Token[], open: Token, close: Token): UpstreamBlock {
  const inside = tokens.filter((t) => t.start > open.start && t.end <= close.start);
  const servers: ServerDirective[] = [];
  const comments: Token[] = [];
  let depth = 0;
  let statement: Token[] = [];
  for (const token of inside) {
    if (token.kind === 'comment') {
      if (depth === 0) comments.push(token);
      continue;
    }
    if (token.kind === '{') depth++;
    if (token.kind === '}') depth--;
    if (depth > 0 || token.kind === '}') {
      statement = [];
      continue;
    }
    if (token.kind !== ';') {
      statement.push(token);
      continue;
    }
    const [keyword, address, ...params] = statement;
    if (keyword?.kind === 'word' && keyword.text === 'server' && address) {
      const flags = params.map((p) => p.text);
      const weight = flags.find((f) => f.startsWith('weight='));
      servers.push({
        address: address.text,
        addressToken: address,
        params,
        end: token,
        start: keyword,
        weight: weight ? Number(weight.slice('weight='.length)) : 1,
        down: flags.includes('down'),
        backup: flags.includes('backup'),
      });
    }
    statement = [];
  }
  return { open, close, servers, comments };
}

/** What a server Shipgate owns should carry: a weight, or 0 for `down`. */
export interface ServerWeight {
  address: string;
  weight: number;
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

/** The whitespace that starts the line `offset` is on, for lines Shipgate adds beside it. */
function indentAt(source: string, offset: number): string {
  const lineStart = source.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*/.exec(source.slice(lineStart))![0];
}

/**
 * The file with each owned server's weight set (a server at 0 keeps its weight and gets `down`),
 * a line added for an owned server the block lacks, and the record comment set. Nothing else in
 * the file changes. `isRecord` tells Shipgate's record comment from the user's comments.
 */
export function editUpstream(
  source: string,
  block: UpstreamBlock,
  weights: readonly ServerWeight[],
  record: { text: string; isRecord: (comment: string) => boolean } | undefined,
): string {
  const edits: Edit[] = [];
  const owned = block.servers.filter((s) => !s.backup);
  let anchor: Token | undefined;
  const added: string[] = [];
  for (const { address, weight } of weights) {
    const server = owned.find((s) => s.address === address);
    if (!server) {
      added.push(`server ${address} weight=${weight === 0 ? 1 : weight}${weight === 0 ? ' down' : ''};`);
      continue;
    }
    if (server.end.start > (anchor?.start ?? -1)) anchor = server.end;
    const weightToken = server.params.find((p) => p.kind === 'word' && p.text.startsWith('weight='));
    if (weight > 0) {
      if (weightToken) edits.push({ start: weightToken.start, end: weightToken.end, text: `weight=${weight}` });
      else edits.push({ start: server.addressToken.end, end: server.addressToken.end, text: ` weight=${weight}` });
      for (const down of server.params.filter((p) => p.kind === 'word' && p.text === 'down')) {
        // The flag and the blank before it go; the user's layout around it stays.
        let from = down.start;
        while (from > 0 && (source[from - 1] === ' ' || source[from - 1] === '\t')) from--;
        edits.push({ start: from, end: down.end, text: '' });
      }
    } else if (!server.down) {
      const last = server.params.at(-1) ?? server.addressToken;
      edits.push({ start: last.end, end: last.end, text: ' down' });
    }
  }
  if (added.length) {
    // After the last owned server's line (its trailing comment stays on it), else the last server's, else the brace.
    anchor ??= block.servers.at(-1)?.end;
    const reference = anchor && block.servers.find((s) => s.end === anchor)!;
    const indent = reference ? indentAt(source, reference.start.start) : '    ';
    const lineEnd = anchor ? source.indexOf('\n', anchor.end) : -1;
    const at = anchor ? (lineEnd < 0 || lineEnd > block.close.start ? anchor.end : lineEnd) : block.open.end;
    edits.push({ start: at, end: at, text: added.map((line) => `\n${indent}${line}`).join('') });
  }
  if (record) {
    const existing = block.comments.filter((c) => record.isRecord(c.text));
    if (existing.length > 0) {
      edits.push({ start: existing[0]!.start, end: existing[0]!.end, text: record.text });
    } else {
      const first = block.servers[0]?.start;
      const indent = first ? indentAt(source, first.start) : '    ';
      edits.push({ start: block.open.end, end: block.open.end, text: `\n${indent}${record.text}` });
    }
  }
  edits.sort((a, b) => b.start - a.start || b.end - a.end);
  let next = source;
  for (const edit of edits) next = next.slice(0, edit.start) + edit.text + next.slice(edit.end);
  return next;
}
