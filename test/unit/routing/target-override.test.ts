import { describe, expect, it } from 'vitest';
import { parseTargetOverride, stripTargetOverride } from '../../../src/routing/target-override.js';
import { findSettings, splitOptionWords } from '../../../src/routing/postgres-options.js';
import type { RouteKind } from '../../../src/config/types.js';

const ALL: RouteKind[] = ['primary', 'replica', 'sync', 'async', 'read-only', 'standby-leader', 'any'];
const parse = (params: Record<string, string>, allowed: RouteKind[] = ALL, listener?: string) => parseTargetOverride(params, 'router', allowed, listener);

describe('the options startup parameter (libpq options=)', () => {
  it('splits on whitespace and honours backslash escapes', () => {
    expect(splitOptionWords('  -c a=b\\ c   --x=y\\\\z ').map((w) => w.text)).toEqual(['-c', 'a=b c', '--x=y\\z']);
  });

  it('finds -c name=value, -cname=value and --name=value, with dashes in names made underscores', () => {
    const settings = findSettings(splitOptionWords('-c search_path=app -cwork_mem=64MB --statement-timeout=5s'));
    expect(settings.map((s) => [s.name, s.value])).toEqual([
      ['search_path', 'app'],
      ['work_mem', '64MB'],
      ['statement_timeout', '5s'],
    ]);
  });

  it('skips other switches and their arguments', () => {
    const settings = findSettings(splitOptionWords('-B 100 -e -c a=1 -p5432'));
    expect(settings.map((s) => s.name)).toEqual(['a']);
  });
});

describe('parseTargetOverride', () => {
  it('no override', () => {
    expect(parse({ user: 'app', database: 'app' })).toEqual({});
    expect(parse({ options: '-c search_path=app' })).toEqual({});
  });

  it('-c <prefix>.target=sync in options', () => {
    expect(parse({ options: '-c router.target=sync' })).toEqual({ target: 'sync' });
  });

  it('--<prefix>.target=replica and -c<prefix>.target=... forms', () => {
    expect(parse({ options: '--router.target=replica' })).toEqual({ target: 'replica' });
    expect(parse({ options: '-crouter.target=async' })).toEqual({ target: 'async' });
  });

  it('among other options, last one wins as in PostgreSQL', () => {
    expect(parse({ options: '-c search_path=a\\ b -c router.target=sync -c work_mem=4MB -c router.target=any' })).toEqual({
      target: 'any',
    });
  });

  it('as a direct startup parameter (JDBC, node-postgres)', () => {
    expect(parse({ user: 'app', 'router.target': 'read-only' })).toEqual({ target: 'read-only' });
  });

  it('names and values are case-insensitive; underscores accepted in values', () => {
    expect(parse({ 'Router.Target': 'SYNC' })).toEqual({ target: 'sync' });
    expect(parse({ options: '-c ROUTER.TARGET=standby_leader' })).toEqual({ target: 'standby-leader' });
  });

  it('accepts read-write for primary and standby for replica', () => {
    expect(parse({ 'router.target': 'read-write' })).toEqual({ target: 'primary' });
    expect(parse({ 'router.target': 'standby' })).toEqual({ target: 'replica' });
  });

  it('rejects unknown values, listing the valid ones', () => {
    expect(parse({ 'router.target': 'prefer-standby' })).toEqual({
      errorKind: 'unknown',
      error:
        'unknown router.target "prefer-standby" (expected one of: primary, replica, sync, async, quorum, read-only, read-only-sync, read-only-quorum, leader, standby-leader, any)',
    });
    expect(parse({ 'router.target': 'constructor' }).error).toMatch(/^unknown router.target "constructor"/);
    expect(parse({ 'router.target': '' }).error).toMatch(/^unknown router.target ""/);
  });

  it('rejects a target the listener does not allow', () => {
    expect(parse({ options: '-c router.target=sync' }, ['primary'], 'primary')).toEqual({
      errorKind: 'refused',
      error: 'target "sync" is not allowed on listener "primary" (allowed: primary)',
    });
    expect(parse({ 'router.target': 'sync' }, ['replica', 'async']).error).toBe('target "sync" is not allowed on this listener (allowed: replica, async)');
  });

  it('rejects a setting without a value', () => {
    expect(parse({ options: '-c router.target' })).toEqual({ errorKind: 'refused', error: 'router.target needs a value, e.g. -c router.target=replica' });
  });

  it('rejects conflicting options and direct parameter; agreeing ones are fine', () => {
    expect(parse({ options: '-c router.target=sync', 'router.target': 'replica' })).toEqual({
      errorKind: 'refused',
      error: 'conflicting router.target: "sync" in options but "replica" as a startup parameter',
    });
    expect(parse({ options: '-c router.target=sync', 'router.target': 'SYNC' })).toEqual({ target: 'sync' });
  });

  it('does not match other settings sharing the prefix', () => {
    expect(parse({ options: '-c router.targets=sync -c myrouter.target=sync', 'router.target_x': 'sync' })).toEqual({});
  });

  it('works with a prefix containing a dash (PostgreSQL turns it into an underscore)', () => {
    expect(parseTargetOverride({ options: '-c patroni-router.target=sync' }, 'patroni-router', ALL)).toEqual({ target: 'sync' });
    expect(parseTargetOverride({ options: '-c patroni_router.target=sync' }, 'patroni-router', ALL)).toEqual({ target: 'sync' });
  });
});

describe('stripTargetOverride', () => {
  it('removes the -c pair from options, keeping the rest byte for byte', () => {
    expect(stripTargetOverride({ user: 'app', options: '-c search_path=a\\ b -c router.target=sync -c work_mem=4MB' }, 'router')).toEqual({
      user: 'app',
      options: '-c search_path=a\\ b -c work_mem=4MB',
    });
  });

  it('removes the --name=value and -cname=value forms', () => {
    expect(stripTargetOverride({ options: '--router.target=sync -crouter.target=any --work-mem=4MB' }, 'router')).toEqual({
      options: '--work-mem=4MB',
    });
  });

  it('drops options entirely when nothing else is left', () => {
    expect(stripTargetOverride({ user: 'app', options: '  -c   router.target=sync ' }, 'router')).toEqual({ user: 'app' });
  });

  it('drops the direct parameter, whatever its case', () => {
    expect(stripTargetOverride({ user: 'app', 'router.target': 'sync', 'ROUTER.TARGET': 'x' }, 'router')).toEqual({ user: 'app' });
  });

  it('leaves options it has nothing to remove from untouched', () => {
    const params = { options: '-c  search_path=app   -e' };
    expect(stripTargetOverride(params, 'router')).toEqual(params);
  });

  it('does not modify its input', () => {
    const params = { options: '-c router.target=sync', 'router.target': 'sync' };
    stripTargetOverride(params, 'router');
    expect(params).toEqual({ options: '-c router.target=sync', 'router.target': 'sync' });
  });
});
