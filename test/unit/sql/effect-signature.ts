import type { StatementEffect } from '../../../src/sql/statement-effects.js';

/**
 * One short word per effect, so that a corpus entry reads as a line: `begin:read-only`,
 * `set:search_path`, `pin:temp-object`, `prepare:p:replica`. Statement texts kept for replay
 * are checked by their own tests, not here.
 */
export function effectSignature(effect: StatementEffect): string {
  switch (effect.kind) {
    case 'begin':
      return ['begin', effect.access, effect.isolation, effect.deferrable === undefined ? undefined : `deferrable=${effect.deferrable}`].filter((p) => p !== undefined).join(':');
    case 'commit':
    case 'rollback':
      return effect.chain ? `${effect.kind}:chain` : effect.kind;
    case 'savepoint':
    case 'release':
    case 'rollback-to':
      return `${effect.kind}:${effect.name}`;
    case 'prepare-transaction':
    case 'commit-prepared':
    case 'rollback-prepared':
      return effect.kind;
    case 'transaction-characteristics':
      return [`characteristics:${effect.scope}`, effect.access, effect.isolation, effect.deferrable === undefined ? undefined : `deferrable=${effect.deferrable}`]
        .filter((p) => p !== undefined)
        .join(':');
    case 'set':
      return effect.scope === 'transaction' ? `set-local:${effect.name}` : `set:${effect.name}`;
    case 'reset':
      return `reset:${effect.name}`;
    case 'reset-all':
      return 'reset-all';
    case 'discard':
      return `discard:${effect.target}`;
    case 'prepare':
      return `prepare:${effect.name}:${effect.verdict.destination}`;
    case 'deallocate':
      return `deallocate:${effect.name ?? 'all'}`;
    case 'execute':
      return `execute:${effect.name}`;
    case 'listen':
      return `listen:${effect.channel}`;
    case 'unlisten':
      return `unlisten:${effect.channel ?? '*'}`;
    case 'declare-cursor':
      return effect.hold ? `declare:${effect.name}:hold` : `declare:${effect.name}`;
    case 'close-cursor':
      return `close:${effect.name ?? 'all'}`;
    case 'pin':
      return effect.scope === 'transaction' ? `pin:${effect.pin}:transaction` : `pin:${effect.pin}`;
  }
}
