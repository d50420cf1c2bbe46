/**
 * Interleaving: for repetition r, the endpoints in an order rotated by r, so that over the
 * repetitions each endpoint runs first, middle and last equally often and machine noise
 * (other work on the host, cache warmth, autovacuum) falls on all of them alike.
 */
export function rotatedOrder<T>(items: readonly T[], repetition: number): T[] {
  if (items.length === 0) return [];
  const shift = ((repetition % items.length) + items.length) % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}
