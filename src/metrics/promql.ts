import { parser } from '@prometheus-io/lezer-promql';

type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

/**
 * PromQL read with the grammar Prometheus itself publishes (@prometheus-io/lezer-promql), turned
 * into a small typed tree. The gate uses it to check every selector against what Prometheus holds
 * and to recognise the shapes it evaluates itself (a ratio, a sum of counters, a histogram); the
 * decision bench evaluates the same tree over simulated series.
 */
export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  label: string;
  op: MatchOp;
  value: string;
}

export type Expr =
  | { type: 'selector'; metric: string | undefined; matchers: Matcher[]; rangeMs?: number; text: string }
  | { type: 'number'; value: number; text: string }
  | { type: 'string'; value: string; text: string }
  | { type: 'aggregate'; op: string; grouping?: { by: boolean; labels: string[] }; args: Expr[]; text: string }
  | { type: 'call'; fn: string; args: Expr[]; text: string }
  | { type: 'binary'; op: string; bool: boolean; matching: boolean; lhs: Expr; rhs: Expr; text: string }
  | { type: 'unary'; op: '-' | '+'; expr: Expr; text: string }
  /** Valid PromQL the gate passes to Prometheus as it is (offsets, subqueries, @ modifiers). */
  | { type: 'other'; text: string };

export class PromqlSyntaxError extends Error {
  readonly position: number;
  constructor(query: string, position: number) {
    super(`cannot be read as PromQL at character ${position + 1} ("${query.slice(Math.max(0, position - 10), position + 10)}")`);
    this.name = 'PromqlSyntaxError';
    this.position = position;
  }
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };

/** `1m30s`, `500ms`, `2h` in milliseconds; undefined for anything else (a computed duration). */
export function promDurationMs(text: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const parts = [...text.matchAll(/(\d+)(ms|[smhdwy])/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return undefined;
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * UNITS[unit!]!, 0);
}

/** The value of a PromQL string literal: Go escapes in '…' and "…", none in `…`. */
export function stringValue(literal: string): string {
  const quote = literal[0];
  const body = literal.slice(1, -1);
  if (quote === '`') return body;
  return body.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)/g, (_, e: string) => {
    const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
    if (e.length === 1) return simple[e] ?? e;
    if (/^[0-7]{3}$/.test(e)) return String.fromCodePoint(parseInt(e, 8));
    return String.fromCodePoint(parseInt(e.slice(1), 16));
  });
}

const children = (node: SyntaxNode): SyntaxNode[] => {
  const list: SyntaxNode[] = [];
  for (let c = node.firstChild; c; c = c.nextSibling) list.push(c);
  return list;
};

/** Parses a query; throws PromqlSyntaxError where the published grammar cannot read it. */
export function parsePromql(query: string): Expr {
  const tree = parser.parse(query);
  let errorAt: number | undefined;
  tree.iterate({
    enter(node) {
      if (errorAt === undefined && node.type.isError) errorAt = node.from;
    },
  });
  if (errorAt !== undefined) throw new PromqlSyntaxError(query, errorAt);
  const top = tree.topNode.firstChild;
  if (!top) throw new PromqlSyntaxError(query, 0);
  const text = (n: SyntaxNode) => query.slice(n.from, n.to);

  const matchers = (node: SyntaxNode): Matcher[] =>
    children(node)
      .filter((c) => c.name === 'UnquotedLabelMatcher' || c.name === 'QuotedLabelMatcher')
      .map((m) => {
        const [name, op, value] = children(m);
        const label = name!.name === 'QuotedLabelName' ? stringValue(text(name!)) : text(name!);
        return { label, op: text(op!) as MatchOp, value: stringValue(text(value!)) };
      });

  const selector = (node: SyntaxNode): Expr => {
    let metric: string | undefined;
    let list: Matcher[] = [];
    for (const c of children(node)) {
      if (c.name === 'Identifier') metric = text(c);
      if (c.name === 'LabelMatchers') {
        list = matchers(c);
        const quotedName = children(c).find((q) => q.name === 'QuotedLabelName');
        if (quotedName) metric = stringValue(text(quotedName));
      }
    }
    const named = list.find((m) => m.label === '__name__' && m.op === '=');
    return { type: 'selector', metric: metric ?? named?.value, matchers: list.filter((m) => m !== named), text: text(node) };
  };

  const build = (node: SyntaxNode): Expr => {
    const parts = children(node);
    switch (node.name) {
      case 'ParenExpr':
        return build(parts.find((c) => c.type.is('Expr'))!);
      case 'VectorSelector':
        return selector(node);
      case 'MatrixSelector': {
        const inner = build(parts[0]!);
        const rangeMs = promDurationMs(text(parts.find((c) => c.name === 'DurationExpr')!));
        if (inner.type !== 'selector' || rangeMs === undefined) return { type: 'other', text: text(node) };
        return { ...inner, rangeMs, text: text(node) };
      }
      case 'NumberDurationLiteral':
        return { type: 'number', value: Number(text(node)), text: text(node) };
      case 'StringLiteral':
        return { type: 'string', value: stringValue(text(node)), text: text(node) };
      case 'AggregateExpr': {
        const op = text(parts.find((c) => c.name === 'AggregateOp')!);
        const modifier = parts.find((c) => c.name === 'AggregateModifier');
        const body = parts.find((c) => c.name === 'FunctionCallBody')!;
        const grouping = modifier && {
          by: children(modifier)[0]!.name === 'By',
          labels: children(children(modifier)[1]!).map((l) => (l.name === 'QuotedLabelName' ? stringValue(text(l)) : text(l))),
        };
        return { type: 'aggregate', op, grouping, args: children(body).map(build), text: text(node) };
      }
      case 'FunctionCall': {
        const fn = text(parts[0]!);
        return { type: 'call', fn, args: children(parts[1]!).map(build), text: text(node) };
      }
      case 'BinaryExpr': {
        const [lhs, op] = parts;
        const rhs = parts.at(-1)!;
        return {
          type: 'binary',
          op: text(op!),
          bool: parts.some((c) => c.name === 'BoolModifier'),
          matching: parts.some((c) => c.name === 'MatchingModifierClause'),
          lhs: build(lhs!),
          rhs: build(rhs),
          text: text(node),
        };
      }
      case 'UnaryExpr':
        return { type: 'unary', op: text(parts[0]!) as '-' | '+', expr: build(parts[1]!), text: text(node) };
      default:
        return { type: 'other', text: text(node) };
    }
  };
  return build(top);
}

/** Every vector selector in a query (inside range selectors too), as Prometheus will look them up. */
export function selectorsOf(query: string): Array<Extract<Expr, { type: 'selector' }>> {
  const tree = parser.parse(query);
  const found: Array<Extract<Expr, { type: 'selector' }>> = [];
  tree.iterate({
    enter(node) {
      if (node.name !== 'VectorSelector') return;
      const expr = parsePromql(query.slice(node.from, node.to));
      if (expr.type === 'selector') found.push(expr);
      return false;
    },
  });
  return found;
}

/** Whether a matcher can match a series that lacks the label (Prometheus reads a missing label as ""). */
export function matchesEmpty(matcher: Matcher): boolean {
  if (matcher.op === '=') return matcher.value === '';
  if (matcher.op === '!=') return matcher.value !== '';
  let pattern: RegExp;
  try {
    pattern = new RegExp(`^(?:${matcher.value})$`, 'u');
  } catch {
    // RE2 syntax JavaScript cannot read: Prometheus accepted it, so do not guess.
    return true;
  }
  return matcher.op === '=~' ? pattern.test('') : !pattern.test('');
}

/** A selector's text with the metric name alone, for Prometheus' labels API. */
export function metricSelector(metric: string): string {
  return `{__name__=${JSON.stringify(metric)}}`;
}
