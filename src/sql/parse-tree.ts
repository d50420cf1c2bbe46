/**
 * The parts of libpg-query's JSON parse tree the classifier reads.
 *
 * The types are libpg-query's own (generated from libpg_query's protobuf by @pgsql/types and
 * re-exported by the package), so a version that renames a field we rely on fails to compile
 * here rather than misclassifying at run time. In that JSON a node is an object with a single
 * key naming its type, `{"SelectStmt": {...}}`, except in fields whose type is one node kind
 * (`relation: RangeVar`, `intoClause`), which hold the body directly. Fields equal to their
 * zero value are omitted: `{"ival": {}}` is 0, a missing `is_from` is false.
 */
import type { A_Const, DefElem, FuncCall, Node } from 'libpg-query';

export type {
  A_Const,
  CallStmt,
  ClosePortalStmt,
  CopyStmt,
  CreateFunctionStmt,
  CreateSeqStmt,
  CreateStmt,
  CreateTableAsStmt,
  DeallocateStmt,
  DeclareCursorStmt,
  DefElem,
  DiscardStmt,
  ExecuteStmt,
  ExplainStmt,
  FetchStmt,
  FuncCall,
  IntoClause,
  ListenStmt,
  LoadStmt,
  LockingClause,
  Node,
  ParseResult,
  PrepareStmt,
  RangeVar,
  RawStmt,
  SelectStmt,
  TransactionStmt,
  UnlistenStmt,
  VariableSetStmt,
  VariableShowStmt,
  ViewStmt,
} from 'libpg-query';

/** The type name of a wrapped node: `SelectStmt` for `{"SelectStmt": {...}}`. */
export function nodeType(node: Node): string {
  for (const key in node) return key;
  return '';
}

/** `[{"String": {"sval": "pg_catalog"}}, {"String": {"sval": "nextval"}}]` → `['pg_catalog', 'nextval']`. */
export function nameParts(list: readonly Node[] | undefined): string[] {
  const parts: string[] = [];
  for (const item of list ?? []) {
    if ('String' in item) parts.push(item.String.sval ?? '');
    else return []; // Not a plain name (never seen in a funcname); callers treat it as unknown.
  }
  return parts;
}

/** A function as the text names it: `pg_catalog.nextval` → schema `pg_catalog`, name `nextval`. */
export interface FunctionName {
  readonly schema?: string;
  readonly name: string;
}

export function functionName(call: FuncCall): FunctionName | undefined {
  const parts = nameParts(call.funcname);
  const name = parts.at(-1);
  if (name === undefined || name === '') return undefined;
  // A three-part name (catalog.schema.name) keeps the schema: the catalog is the database.
  const schema = parts.length >= 2 ? parts.at(-2) : undefined;
  return schema === undefined ? { name } : { schema, name };
}

/** The text of a constant (`'on'`, `1`, `1.5`, `true`), or undefined for anything else. */
export function constantText(node: Node | undefined): string | undefined {
  if (node === undefined) return undefined;
  if ('A_Const' in node) return aConstText(node.A_Const);
  if ('String' in node) return node.String.sval ?? '';
  if ('Integer' in node) return String(node.Integer.ival ?? 0);
  if ('Float' in node) return node.Float.fval;
  if ('Boolean' in node) return node.Boolean.boolval === true ? 'true' : 'false';
  if ('TypeCast' in node) return constantText(node.TypeCast.arg); // 'on'::text
  return undefined;
}

function aConstText(c: A_Const): string | undefined {
  if (c.isnull === true) return undefined;
  if (c.sval !== undefined) return c.sval.sval ?? '';
  if (c.ival !== undefined) return String(c.ival.ival ?? 0);
  if (c.fval !== undefined) return c.fval.fval;
  if (c.boolval !== undefined) return c.boolval.boolval === true ? 'true' : 'false';
  return undefined;
}

/** The DefElem bodies of an options list (`BEGIN READ ONLY`, `EXPLAIN (ANALYZE)`). */
export function defElems(list: readonly Node[] | undefined): DefElem[] {
  const elems: DefElem[] = [];
  for (const item of list ?? []) if ('DefElem' in item) elems.push(item.DefElem);
  return elems;
}

/**
 * PostgreSQL's parse_bool: on/off, true/false, yes/no, 1/0 and their unique prefixes, any
 * case. Undefined for anything else (the server would refuse it).
 */
export function booleanSetting(text: string | undefined): boolean | undefined {
  if (text === undefined) return undefined;
  const value = text.trim().toLowerCase();
  if (value === '') return undefined;
  if ('true'.startsWith(value) || 'yes'.startsWith(value) || value === 'on' || value === '1') return true;
  if ('false'.startsWith(value) || 'no'.startsWith(value) || value === 'of' || value === 'off' || value === '0') return false;
  return undefined;
}

/** A DefElem flag: present without an argument means true (`EXPLAIN (ANALYZE)`). */
export function defElemFlag(elem: DefElem): boolean | undefined {
  return elem.arg === undefined ? true : booleanSetting(constantText(elem.arg));
}
