import type { ProxyEvents } from '../proxy/proxy-events.js';

/** Hands every proxy event to several observers (metrics, event log, session log). */
export function fanOutProxyEvents(observers: readonly ProxyEvents[]): ProxyEvents {
  // Each hook's observers bound once: a keyed lookup per observer on every event is megamorphic (split sessions send one per statement).
  const each = <K extends keyof ProxyEvents>(key: K): ((event: Parameters<ProxyEvents[K]>[0]) => void) => {
    const hooks = observers.map((observer) => (observer[key] as (e: Parameters<ProxyEvents[K]>[0]) => void).bind(observer));
    return (event) => {
      for (const hook of hooks) hook(event);
    };
  };
  return {
    connectionAccepted: each('connectionAccepted'),
    sessionStarted: each('sessionStarted'),
    sessionEnded: each('sessionEnded'),
    refused: each('refused'),
    holdStarted: each('holdStarted'),
    holdEnded: each('holdEnded'),
    fenced: each('fenced'),
    cancel: each('cancel'),
    unitRouted: each('unitRouted'),
    readRetried: each('readRetried'),
    replayChecked: each('replayChecked'),
    readHeld: each('readHeld'),
    sessionPinned: each('sessionPinned'),
    sessionMoved: each('sessionMoved'),
    sessionNotMoved: each('sessionNotMoved'),
  };
}
