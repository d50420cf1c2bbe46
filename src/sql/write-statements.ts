/**
 * Statements that always go to the primary and are not reads in disguise: DDL, utilities,
 * procedural code, NOTIFY, LOCK. Their one effect worth finding is a temporary object, which
 * exists only on the link that created it.
 */
import type { Node } from './parse-tree.js';
import { nameParts, nodeType } from './parse-tree.js';
import { collectTreeFacts } from './tree-facts.js';
import { isTempRelation, tempPins } from './read-statements.js';
import { onPrimary, statementKind, type StatementAnalysis } from './statement-analysis.js';

const UTILITIES: ReadonlyMap<string, string> = new Map([
  ['ClusterStmt', 'cluster'],
  ['ReindexStmt', 'reindex'],
  ['CheckPointStmt', 'checkpoint'],
]);

/** A multi-part name whose schema is pg_temp: `CREATE FUNCTION pg_temp.f()`. */
function inTempSchema(names: readonly Node[] | undefined): boolean {
  const parts = nameParts(names);
  return parts.length >= 2 && parts.at(-2) === 'pg_temp';
}

/** Whether the statement creates a temporary object (table, view, sequence, type, function). */
function createsTempObject(node: Node): boolean {
  if ('CreateStmt' in node) return isTempRelation(node.CreateStmt.relation);
  if ('ViewStmt' in node) return isTempRelation(node.ViewStmt.view);
  if ('CreateSeqStmt' in node) return isTempRelation(node.CreateSeqStmt.sequence);
  if ('CreateTableAsStmt' in node) return isTempRelation(node.CreateTableAsStmt.into?.rel);
  if ('CompositeTypeStmt' in node) return isTempRelation(node.CompositeTypeStmt.typevar);
  if ('CreateFunctionStmt' in node) return inTempSchema(node.CreateFunctionStmt.funcname);
  if ('CreateDomainStmt' in node) return inTempSchema(node.CreateDomainStmt.domainname);
  if ('DefineStmt' in node) return inTempSchema(node.DefineStmt.defnames);
  if ('CreateEnumStmt' in node) return inTempSchema(node.CreateEnumStmt.typeName);
  if ('CreateRangeStmt' in node) return inTempSchema(node.CreateRangeStmt.typeName);
  return false;
}

export function writeAnalysis(node: Node): StatementAnalysis {
  const type = nodeType(node);
  if ('NotifyStmt' in node) return onPrimary('write', 'notify');
  if ('LockStmt' in node) return onPrimary('locking', 'lock-table');
  if ('ConstraintsSetStmt' in node) return onPrimary('transaction-control', 'set-constraints');
  if ('VacuumStmt' in node) return onPrimary('utility', node.VacuumStmt.is_vacuumcmd === true ? 'vacuum' : 'analyze');
  const utility = UTILITIES.get(type);
  if (utility !== undefined) return onPrimary('utility', utility);
  // The arguments of a CALL run now; a session advisory lock taken there is still a pin.
  if ('CallStmt' in node) return onPrimary('procedural', 'call', collectTreeFacts(node.CallStmt.funccall?.args).pins);
  if ('DoStmt' in node) return onPrimary('procedural', 'do');
  const effects = tempPins(createsTempObject(node));
  if ('CreateTableAsStmt' in node) {
    // CREATE TABLE AS runs its query now; the pins of its functions are effects too.
    const detail = node.CreateTableAsStmt.objtype === 'OBJECT_MATVIEW' ? 'create-materialized-view' : 'create-table-as';
    return onPrimary('write', detail, [...effects, ...collectTreeFacts(node.CreateTableAsStmt.query).pins]);
  }
  return onPrimary('write', statementKind(type), effects);
}
