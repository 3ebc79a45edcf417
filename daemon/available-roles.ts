import { collectorRoleFactory } from '../collectors/role';
import { consoleRoleFactory } from '../console/role';
import { notifierRoleFactory } from '../notify/role';
import { createPipelineRole } from '../pipeline/role';
import type { RoleFactory, RoleName } from './roles';

/** The roles this build can run; `shaobing run` starts all of them unless --role narrows it. */
export const ROLE_FACTORIES: Partial<Record<RoleName, RoleFactory>> = {
  collector: collectorRoleFactory,
  pipeline: createPipelineRole,
  notifier: notifierRoleFactory,
  console: consoleRoleFactory,
};
