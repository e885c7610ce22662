/**
 * The run's cancellation. On cancel the runner sends SIGINT, then SIGTERM 7.5 s later, then kills
 * the process; every wait and every network call of an action listens to this one signal, so a
 * cancelled step stops within seconds and spends them putting traffic on the safe side.
 */
const controller = new AbortController();
let installed = false;

export const cancelled: AbortSignal = controller.signal;

/**
 * Turns SIGINT and SIGTERM into `cancelled`; `onSignal` says what the step does about it. Later
 * signals only log: the first one already started the stop.
 */
export function cancelOnSignals(onSignal: (signal: NodeJS.Signals) => void): void {
  if (installed) return;
  installed = true;
  const handle = (signal: NodeJS.Signals) => {
    const first = !controller.signal.aborted;
    if (first) onSignal(signal);
    controller.abort(new CancelledError(signal));
  };
  process.on('SIGINT', handle).on('SIGTERM', handle);
}

export class CancelledError extends Error {
  readonly signal: NodeJS.Signals;
  constructor(signal: NodeJS.Signals) {
    super(`the run was cancelled (${signal})`);
    this.name = 'CancelledError';
    this.signal = signal;
  }
}

/** `signal` and the run's cancellation together, plus a deadline when given. */
export function withDeadline(timeoutMs: number | undefined, ...signals: Array<AbortSignal | undefined>): AbortSignal {
  const all = [cancelled, ...signals.filter((s): s is AbortSignal => s !== undefined)];
  if (timeoutMs !== undefined) all.push(AbortSignal.timeout(timeoutMs));
  return AbortSignal.any(all);
}
