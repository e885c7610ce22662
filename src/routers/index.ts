import type { Logger } from '../core/logger.ts';
import { isFixedRouting, type Routing } from '../slots/config.ts';
import { fixedRouter } from '../slots/traffic.ts';
import { commandRouter } from './command.ts';
import type { TrafficRouter } from './router.ts';

export { ROUTING_EXAMPLE as ROUTER_EXAMPLE, routingSchema as routerSchema, type Routing as RouterConfig } from '../slots/config.ts';

/** A router for the canary's fixed form or a command; slot routers are driven through src/slots. */
export function createRouter(config: Routing, logger: Logger): TrafficRouter {
  if (config.type === 'command') {
    if (!config.command) throw new Error('a command router needs command');
    return commandRouter({ type: 'command', command: config.command, timeout: config.timeout ?? 60_000, env: config.env });
  }
  if (!isFixedRouting(config)) throw new Error('a slot router is driven through src/slots');
  return fixedRouter(config, logger);
}
