import { describe, expect, it } from 'vitest';
import { boxTable, memberRoleLabel, memberStateLabel, renderStatus } from '../../../src/admin/status-table.js';
import { topologyReport } from '../../../src/admin/topology-report.js';
import type { ListenerConfig } from '../../../src/config/types.js';
import { batman, MB } from '../routing/cluster-factory.js';
import { listenerConfig } from '../../support/listener-config.js';

const listener = (name: string, port: number, overrides: Partial<ListenerConfig> = {}): ListenerConfig =>
  listenerConfig(name, 'batman', { port, holdTimeoutMs: 30_000, connectTimeoutMs: 5000, allowedTargets: ['primary'], ...overrides });

describe('boxTable', () => {
  it('draws patronictl-style boxes with the title in the top border and multi-line cells', () => {
    expect(
      boxTable(
        'Cluster: x',
        ['A', 'Num'],
        [
          ['one', '7'],
          [['two', 'lines'], '12'],
        ],
        new Set([1]),
      ),
    ).toEqual(['+ Cluster: x -+', '| A     | Num |', '+-------+-----+', '| one   |   7 |', '| two   |  12 |', '| lines |     |', '+-------+-----+']);
  });
});

describe('renderStatus', () => {
  it('lists members like patronictl list, then where each listener routes and why not elsewhere', () => {
    const state = batman({ switchoverPending: true, failover: { leader: 'pg0', candidate: 'pg1' } });
    const withLag = { ...state, members: state.members.map((m) => (m.name === 'pg2' ? { ...m, lagBytes: 3 * MB, timeline: 2 } : { ...m, timeline: 2 })) };
    const report = topologyReport({
      now: 0,
      ready: true,
      clusters: [{ scope: 'batman', namespace: '/service/' }],
      listenerConfigs: [listener('primary', 5000), listener('replicas', 5001, { route: 'replica', maxLagBytes: MB })],
      states: new Map([['batman', withLag]]),
      dcs: [{ scope: 'batman', watch: 'connected', lastContact: 0 }],
      listeners: [{ name: 'primary', cluster: 'batman', route: 'primary', host: '127.0.0.1', port: 5000, accepting: true, retired: false }],
      sessions: [{ listener: 'primary', cluster: 'batman', retired: false, total: 2, held: 0, byPhase: {}, byMember: { pg0: 2 } }],
      failovers: {},
    });
    expect(renderStatus(report)).toEqual([
      '+ Cluster: batman (/service/) -----------+---------+----+-----------+--------------------+----------+',
      '| Member | Host           | Role         | State   | TL | Lag in MB | Tags               | Sessions |',
      '+--------+----------------+--------------+---------+----+-----------+--------------------+----------+',
      '| pg0    | 127.0.0.1:5433 | Leader       | running |  2 |           |                    |        2 |',
      '| pg1    | 127.0.0.1:5434 | Sync Standby | running |  2 |         0 | datacenter: dc1    |        0 |',
      '| pg2    | 127.0.0.1:5435 | Replica      | running |  2 |         3 | datacenter: dc2    |        0 |',
      '|        |                |              |         |    |           | nofailover: true   |          |',
      '|        |                |              |         |    |           | nosync: true       |          |',
      '|        |                |              |         |    |           | replicatefrom: pg1 |          |',
      '+--------+----------------+--------------+---------+----+-----------+--------------------+----------+',
      ' Switchover pending: pg0 -> pg1',
      ' DCS: connected',
      '',
      '+ Listeners -----------------------+---------+----------+-----------------------------------------------------------------------------------------+---------------------------------------------------------+',
      '| Listener | Address               | Route   | Sessions | Routes to                                                                               | Not used (why)                                          |',
      '+----------+-----------------------+---------+----------+-----------------------------------------------------------------------------------------+---------------------------------------------------------+',
      '| primary  | 127.0.0.1:5000        | primary | 2        | none: no primary in cluster batman: switchover in progress (pg0 is handing over to pg1) | pg0 (switchover): is handing over the leadership to pg1 |',
      '|          |                       |         |          |                                                                                         | pg1 (role): is a replica                                |',
      '|          |                       |         |          |                                                                                         | pg2 (role): is a replica                                |',
      '| replicas | 127.0.0.1:5001 (down) | replica | 0        | pg1                                                                                     | pg0 (role): is the primary                              |',
      '|          |                       |         |          |                                                                                         | pg2 (lag): lags 3 MB (max 1 MB)                         |',
      '+----------+-----------------------+---------+----------+-----------------------------------------------------------------------------------------+---------------------------------------------------------+',
    ]);
  });
});

describe('renderStatus with workers', () => {
  it('says each worker with its sessions, and that the counts above are their sum', () => {
    const report = topologyReport({
      now: 0,
      ready: true,
      clusters: [],
      listenerConfigs: [],
      states: new Map(),
      dcs: [],
      listeners: [],
      sessions: [],
      failovers: {},
      workers: [
        { index: 1, pid: 101, state: 'ready', restarts: 0, sessions: 3 },
        { index: 2, state: 'restarting', restarts: 2 },
      ],
    });
    expect(renderStatus(report).at(-1)).toBe(' Workers (sessions above are their sum): 1 ready (pid 101), 3 sessions; 2 restarting, restarted 2x');
  });
});

describe('patronictl words for Patroni 4 shapes', () => {
  it("says Quorum Standby in quorum mode and shows a replica's replication state (streaming) as its state", () => {
    const quorum = batman({ config: { ...batman().config, synchronousMode: 'quorum' }, sync: { leader: 'pg0', standbys: ['pg1', 'pg2'], quorum: 1 } });
    const pg1 = quorum.members.find((m) => m.name === 'pg1')!;
    expect(memberRoleLabel(quorum, pg1)).toBe('Quorum Standby');
    expect(memberRoleLabel(batman(), pg1)).toBe('Sync Standby');
    expect(memberStateLabel({ ...pg1, replicationState: 'streaming' })).toBe('streaming');
    expect(memberStateLabel({ ...pg1, replicationState: 'in archive recovery' })).toBe('in archive recovery');
    expect(memberStateLabel(pg1)).toBe('running');
    expect(memberStateLabel({ ...pg1, state: 'starting', replicationState: 'streaming' })).toBe('starting');
  });
});
