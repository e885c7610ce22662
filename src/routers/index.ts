import { z } from 'zod';
import { commandRouter, commandRouterSchema } from './command.ts';
import { haproxyRouter, haproxyRouterSchema } from './haproxy.ts';
import { nginxRouter, nginxRouterSchema } from './nginx.ts';
import type { TrafficRouter } from './router.ts';

export const routerSchema = z.discriminatedUnion('type', [nginxRouterSchema, haproxyRouterSchema, commandRouterSchema], {
  error: (issue) => (issue.code === 'invalid_union' ? 'type must be nginx, haproxy or command' : undefined),
});

export type RouterConfig = z.output<typeof routerSchema>;

export const ROUTER_EXAMPLE =
  'router: "{type: nginx, config-file: /etc/nginx/conf.d/app-upstream.conf, upstream: app, stable: 10.0.0.5:8080, canary: 10.0.0.6:8080}"';

export function createRouter(config: RouterConfig): TrafficRouter {
  switch (config.type) {
    case 'nginx':
      return nginxRouter(config);
    case 'haproxy':
      return haproxyRouter(config);
    case 'command':
      return commandRouter(config);
  }
}
