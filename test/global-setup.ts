import { reapAbandoned } from './cluster/process-registry.js';

// Safety net for the real-cluster harness: every test process kills what it started on exit,
// but a worker that is SIGKILLed cannot. Its registry record lets us clean up here, before and
// after the run. Records of live processes (other test runs on this machine) are left alone.
function report(when: string, reaped: string[]): void {
  if (reaped.length > 0) console.warn(`[global-setup] ${when}: cleaned up after dead test processes: ${reaped.join(', ')}`);
}

export function setup(): () => void {
  report('before the run', reapAbandoned());
  return () => report('after the run', reapAbandoned({ includeOwnPid: true }));
}
