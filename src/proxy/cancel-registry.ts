/** Where a backend that issued a cancel key lives, so a CancelRequest can be sent to it. */
export interface CancelTarget {
  host: string;
  port: number;
  listener: string;
  member: string;
}

/**
 * Cancel keys (process id + secret) seen in BackendKeyData during startups. A CancelRequest
 * arrives on a fresh connection with only this key, so the registry is how it finds its backend.
 */
export class CancelRegistry {
  private readonly targets = new Map<string, { target: CancelTarget; owner: object }>();

  private static keyOf(processId: number, secret: Buffer): string {
    return `${processId}:${secret.toString('hex')}`;
  }

  /** `owner` identifies the session so a later, unrelated session cannot remove the entry. */
  register(processId: number, secret: Buffer, target: CancelTarget, owner: object): void {
    this.targets.set(CancelRegistry.keyOf(processId, secret), { target, owner });
  }

  lookup(processId: number, secret: Buffer): CancelTarget | undefined {
    return this.targets.get(CancelRegistry.keyOf(processId, secret))?.target;
  }

  remove(processId: number, secret: Buffer, owner: object): void {
    const key = CancelRegistry.keyOf(processId, secret);
    if (this.targets.get(key)?.owner === owner) this.targets.delete(key);
  }

  get size(): number {
    return this.targets.size;
  }
}
