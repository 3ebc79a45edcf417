import { sessionApi } from '../auth/routes';
import { alertsApi } from './alerts';
import { usersApi } from './users';
import type { ConsoleApi } from '../context';
import { rulesApi } from './rules';
import { overviewApi } from './overview';
import { reviewApi } from './review';
import { briefingsApi } from './briefings';

/**
 * Every area of the console's API, mounted under /api in this order by console/plugin.ts. Each is
 * a fastify plugin given the ConsoleServices; routes declare `config.roles` / `config.public`.
 * Add one line per area.
 */
export const CONSOLE_APIS: ConsoleApi[] = [
  sessionApi,
  usersApi,
  alertsApi,
  rulesApi,
  overviewApi,
  reviewApi,
  briefingsApi,
];
