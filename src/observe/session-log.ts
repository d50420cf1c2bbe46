import type { Logger } from 'pino';
import { noProxyEvents, type ProxyEvents } from '../proxy/proxy-events.js';

/**
 * One log line per session at its end (who, where, how long, how much, how it ended), and one
 * per refusal: what an operator greps for after an incident.
 */
export function sessionLog(logger: Logger): ProxyEvents {
  return {
    ...noProxyEvents,
    sessionEnded(e) {
      logger.info(
        { client: e.clientAddress, listener: e.listener, member: e.member, durationMs: Math.round(e.durationMs), bytesIn: e.bytesIn, bytesOut: e.bytesOut, ending: e.ending },
        'session ended',
      );
    },
    fenced(e) {
      logger.warn({ listener: e.listener, member: e.member, reason: e.reason }, 'session fenced');
    },
  };
}
