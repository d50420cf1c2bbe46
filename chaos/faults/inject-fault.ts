/** One planned fault, whatever its kind. */
import { etcdRestart, leaderCrash, replayPause, switchover, type FaultOutcome } from './cluster-faults.js';
import type { FaultContext } from './fault-context.js';
import type { FaultPlan } from './fault-plan.js';
import { fullPrimary, hostileClients } from './router-faults.js';

export function injectFault(plan: FaultPlan, ctx: FaultContext): Promise<FaultOutcome> {
  switch (plan.kind) {
    case 'switchover':
      return switchover(plan, ctx);
    case 'leader-crash':
      return leaderCrash(plan, ctx);
    case 'etcd-restart':
      return etcdRestart(plan, ctx);
    case 'replay-pause':
      return replayPause(plan, ctx);
    case 'full-primary':
      return fullPrimary(plan, ctx);
    case 'slow-clients':
    case 'garbage-clients':
      return hostileClients(plan, ctx);
  }
}
