import { describe, expect, it } from 'vitest';
import { chooseBackends } from '../../../src/routing/choose-backends.js';
import { advanceBalance, createBalanceMemory } from '../../../src/routing/balance-order.js';
import { cluster, member, memory, names, request } from './cluster-factory.js';
import type { Balance } from '../../../src/config/types.js';
import type { BalanceMemory } from '../../../src/routing/route-request.js';

// Declared out of name order on purpose: ordering must not depend on member key order.
const state = cluster([member('r2'), member('r0'), member('r1')]);
const order = (balance: Balance, mem: BalanceMemory) => names(chooseBackends(state, request('replica', { balance }), mem).candidates);

describe('round-robin', () => {
  it('rotates over the name-sorted list by nextIndex', () => {
    expect(order('round-robin', memory({ nextIndex: 0 }))).toEqual(['r0', 'r1', 'r2']);
    expect(order('round-robin', memory({ nextIndex: 1 }))).toEqual(['r1', 'r2', 'r0']);
    expect(order('round-robin', memory({ nextIndex: 5 }))).toEqual(['r2', 'r0', 'r1']);
  });

  it('advanceBalance moves the pick along', () => {
    const mem = createBalanceMemory(new Map(), () => 0);
    const picks: string[] = [];
    for (let i = 0; i < 4; i++) {
      picks.push(order('round-robin', mem)[0] as string);
      advanceBalance(mem);
    }
    expect(picks).toEqual(['r0', 'r1', 'r2', 'r0']);
  });

  it('copes with a cursor that is huge, negative or not a number', () => {
    expect(order('round-robin', memory({ nextIndex: Number.MAX_SAFE_INTEGER }))[0]).toBeDefined();
    expect(order('round-robin', memory({ nextIndex: -1 }))).toEqual(['r2', 'r0', 'r1']);
    expect(order('round-robin', memory({ nextIndex: Number.NaN }))).toEqual(['r0', 'r1', 'r2']);
    const mem = memory({ nextIndex: Number.MAX_SAFE_INTEGER });
    advanceBalance(mem);
    expect(mem.nextIndex).toBe(0);
  });
});

describe('least-connections', () => {
  it('puts the member with the fewest sessions first', () => {
    const sessions = new Map([
      ['r0', 5],
      ['r1', 2],
      ['r2', 9],
    ]);
    expect(order('least-connections', memory({ sessionsByMember: sessions }))).toEqual(['r1', 'r0', 'r2']);
  });

  it('counts a member without sessions as zero', () => {
    const sessions = new Map([
      ['r0', 1],
      ['r1', 1],
    ]);
    expect(order('least-connections', memory({ sessionsByMember: sessions }))[0]).toBe('r2');
  });

  it('breaks ties by round-robin', () => {
    const sessions = new Map([
      ['r0', 1],
      ['r1', 1],
      ['r2', 1],
    ]);
    expect(order('least-connections', memory({ sessionsByMember: sessions, nextIndex: 2 }))).toEqual(['r2', 'r0', 'r1']);
  });
});

describe('random', () => {
  it('picks by memory.random() and keeps the rest as retry order', () => {
    expect(order('random', memory({ random: () => 0 }))).toEqual(['r0', 'r1', 'r2']);
    expect(order('random', memory({ random: () => 0.5 }))).toEqual(['r1', 'r2', 'r0']);
    expect(order('random', memory({ random: () => 0.99 }))).toEqual(['r2', 'r0', 'r1']);
  });

  it('survives a random source that returns 1 or garbage', () => {
    expect(order('random', memory({ random: () => 1 }))[0]).toBe('r2');
    expect(order('random', memory({ random: () => Number.NaN }))[0]).toBe('r0');
  });
});

describe('candidates', () => {
  it('list every eligible member once', () => {
    for (const balance of ['round-robin', 'least-connections', 'random'] as const) {
      expect(order(balance, memory({ nextIndex: 1, random: () => 0.4 })).sort()).toEqual(['r0', 'r1', 'r2']);
    }
  });
});
