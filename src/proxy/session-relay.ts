import type net from 'node:net';
import { advanceBalance } from '../routing/balance-order.js';
import { chooseBackends } from '../routing/choose-backends.js';
import type { Member } from '../topology/cluster-state.js';
import type { BackendLink } from './backend/backend-link.js';
import type { ByteRelay } from './byte-relay.js';
import { createMover, primaryGone, primaryLostUnderWork } from './move/follow-primary.js';
import type { SessionCore } from './session-core.js';
import { SplitRelay } from './split/split-relay.js';

/** Texts a listener remembers as refused by a replica (25006); beyond this it stops learning. */
const MAX_LEARNED_WRITES = 10_000;

/**
 * The session is logged in: its bytes flow from here. Raw bytes for most listeners; statement
 * by statement on a split listener or one whose sessions can move.
 */
export function startRelaying(session: SessionCore, member: Member, backend: net.Socket, relay: ByteRelay, clientRest: Buffer, backendRest: Buffer): void {
  const config = session.listener.config;
  if (config.split !== undefined || (config.moveSessions && session.links.possible)) {
    startSplit(session, member, backend, relay.bytesOut, clientRest, backendRest);
    return;
  }
  relay.startClientToBackend(clientRest);
  relay.startBackendToClient(backendRest);
}

/**
 * A session relayed statement by statement from ReadyForQuery on: on a split listener units
 * go to the primary link or, when safe, to a replica link; on a listener whose sessions move,
 * the relay follows the session's state so that it can go on on the next primary.
 */
function startSplit(session: SessionCore, member: Member, backend: net.Socket, startupBytes: number, clientRest: Buffer, backendRest: Buffer): void {
  const config = session.listener.config;
  const runtime = session.listener.split;
  if (runtime === undefined) return;
  const settings = config.split;
  const listener = config.name;
  const { events } = session.services;
  // The relay owns the primary link's end from here: a link lost between transactions may be moved past.
  for (const event of ['end', 'close', 'error'] as const) backend.removeAllListeners(event);
  const split = new SplitRelay({
    client: session.client.stream,
    primary: { socket: backend, member, cancelKey: session.cancelKeys.member },
    classify: (text, prepared) => {
      const verdict = runtime.classifier.classify(text, prepared.lookup);
      return runtime.learnedWrites.has(text) ? { ...verdict, destination: 'primary', reason: 'write', detail: 'refused-by-replica' } : verdict;
    },
    consistency: settings?.consistency ?? 'eventual',
    replicas: settings !== undefined,
    replayPosition: (name) => session.services.replayPosition(config.cluster, name),
    refreshPosition: (name) => session.services.refreshReplayPosition(config.cluster, name),
    positionObserved: (name, position) => session.services.replayObserved(config.cluster, name, position),
    replicaWaitMs: settings?.replicaWaitMs ?? 0,
    openReplica: () => openReplicaLink(session),
    replicaStillUsable: (name) => replicaCandidates(session).some((m) => m.name === name),
    routed: (destination, reason) => {
      runtime.stats.routed(destination, reason);
      events.unitRouted({ listener, destination, reason });
    },
    retriedOnPrimary: (text) => {
      if (text !== undefined && runtime.learnedWrites.size < MAX_LEARNED_WRITES) runtime.learnedWrites.add(text);
      runtime.stats.retriedOnPrimary++;
      events.readRetried({ listener });
    },
    replayChecked: (outcome) => events.replayChecked({ listener, outcome }),
    readHeld: (awaiting) => events.readHeld({ listener, awaiting }),
    pinned: (pin) => events.sessionPinned({ listener, pin }),
    primaryLost: (why, blocker) => primaryLostUnderWork(session, why, blocker),
    primaryGone: (why) => primaryGone(session, why),
    clientLeft: () => session.finish('client-closed'),
    log: session.log,
  });
  split.bytesOut = startupBytes;
  session.relay = session.split = split;
  if (config.moveSessions && session.links.possible) session.mover = createMover(session, split);
  split.start(clientRest, backendRest);
}

/** The replicas a split session's replica link may use now, best first (the listener's tags, max_lag, balance). */
function replicaCandidates(session: SessionCore): readonly Member[] {
  const { listener, services } = session;
  const settings = listener.config.split;
  const state = services.feedFor(listener.config.cluster)?.current();
  if (settings === undefined || state === undefined) return [];
  const now = services.clock.now();
  const lagHeld = listener.lag?.held(now);
  const request = { ...listener.routeRequest(settings.replicaRoute), now, ...(lagHeld !== undefined ? { lagHeld } : {}) };
  return chooseBackends(state, request, listener.replicaLinkMemory).candidates;
}

async function openReplicaLink(session: SessionCore): Promise<BackendLink | { none: string }> {
  const candidate = replicaCandidates(session)[0];
  if (candidate === undefined) return { none: 'no replica qualifies' };
  if (!session.links.possible) return { none: session.links.singleLinkReason ?? 'no secret to log in with' };
  const { listener } = session;
  advanceBalance(listener.replicaLinkMemory);
  const link = await session.links.openOwned(candidate);
  listener.replicaLinkOpened(candidate.name, link.socket);
  return link;
}
