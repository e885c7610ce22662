/** Numbers as people read them in logs and summaries: rounded values, exact counts. */
export const round = (n: number) => Number(n.toPrecision(4));

/** A count exactly as compared (no rounding), with thousands separated. */
export function exact(n: number): string {
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  return String(n);
}

export function percent(part: number, whole: number): string {
  return whole > 0 ? `${round((100 * part) / whole)}%` : 'n/a';
}

/** An e-value (ln given) as a plain number: 37, 0.2, 1.2e+5. */
export function evidence(ln: number): string {
  const value = Math.exp(ln);
  if (!Number.isFinite(value)) return ln > 0 ? '∞' : '0';
  return value >= 1e5 || (value > 0 && value < 1e-3) ? value.toExponential(1) : String(round(value));
}
