/**
 * Library code logs through this seam so it runs the same under tests, the demo and a runner;
 * only the action entry points bind it to the runner (src/core/runner.ts).
 */
export interface Logger {
  info(message: string): void;
  warning(message: string): void;
  debug(message: string): void;
  group<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

export const silentLogger: Logger = {
  info: () => {},
  warning: () => {},
  debug: () => {},
  group: (_name, fn) => fn(),
};
