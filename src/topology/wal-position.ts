/**
 * WAL positions as byte counts. Patroni writes integers; Postgres' own text form `X/Y`
 * (two hex halves) is accepted too. Returns undefined for anything else.
 */
export function parseWalPosition(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  const lsn = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
  if (lsn === null) return undefined;
  return parseInt(lsn[1]!, 16) * 0x1_0000_0000 + parseInt(lsn[2]!, 16);
}
