import { noProxyEvents, type ProxyEvents } from '../proxy/proxy-events.js';
import type { Notice } from './messages.js';

/**
 * A worker's proxy events that the primary process's observers need (the event log of /events
 * and the status page, the failover timeline of /metrics), sent to it; the worker's own
 * metrics and session log take the rest. Per-session events would cost a message per session,
 * so a session start is told only when it is the first on its member since the worker's view
 * of the cluster last changed: enough for the timeline, which waits for the first session on a
 * new primary. A hold is told only when it timed out (the event log keeps no other). Moves are
 * told one by one: they happen only at a switchover, at most once per session.
 */
export function workerNotices(send: (notice: Notice) => void, generationOf: (listener: string) => number | undefined): ProxyEvents {
  const told = new Map<string, Map<string, number>>();
  return {
    ...noProxyEvents,
    sessionStarted(event) {
      const generation = generationOf(event.listener) ?? 0;
      let byMember = told.get(event.listener);
      if (byMember === undefined) told.set(event.listener, (byMember = new Map()));
      if (byMember.get(event.member) === generation) return;
      byMember.set(event.member, generation);
      send({ type: 'notice', name: 'sessionStarted', event });
    },
    fenced(event) {
      send({ type: 'notice', name: 'fenced', event });
    },
    refused(event) {
      send({ type: 'notice', name: 'refused', event });
    },
    holdEnded(event) {
      if (event.outcome === 'timeout') send({ type: 'notice', name: 'holdEnded', event });
    },
    sessionPinned(event) {
      send({ type: 'notice', name: 'sessionPinned', event });
    },
    sessionMoved(event) {
      send({ type: 'notice', name: 'sessionMoved', event });
    },
    sessionNotMoved(event) {
      send({ type: 'notice', name: 'sessionNotMoved', event });
    },
  };
}
