/**
 * Questions the primary process asked several workers at once (a report, a reload), and the
 * answers as they come, by request id. A question is settled when every worker asked has
 * answered, or has exited (it never will), or at the deadline, with whatever came.
 */
export class PendingReplies<Reply> {
  private nextId = 1;
  private readonly open = new Map<number, { waiting: Set<number>; replies: Map<number, Reply>; settle: () => void }>();

  /** A new question to `workers`; `send(id)` asks them. Resolves with the replies by worker index. */
  ask(workers: readonly number[], timeoutMs: number, send: (id: number) => void): Promise<Map<number, Reply>> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const replies = new Map<number, Reply>();
      const settle = (): void => {
        clearTimeout(timer);
        this.open.delete(id);
        resolve(replies);
      };
      const timer = setTimeout(settle, timeoutMs);
      timer.unref();
      this.open.set(id, { waiting: new Set(workers), replies, settle });
      send(id);
      if (workers.length === 0) settle();
    });
  }

  /** Worker `index` answered question `id` (a late or unknown answer is dropped). */
  answer(index: number, id: number, reply: Reply): void {
    const question = this.open.get(id);
    if (question === undefined || !question.waiting.delete(index)) return;
    question.replies.set(index, reply);
    if (question.waiting.size === 0) question.settle();
  }

  /** Worker `index` exited: no question waits for it any more. */
  forget(index: number): void {
    for (const question of [...this.open.values()]) {
      if (question.waiting.delete(index) && question.waiting.size === 0) question.settle();
    }
  }
}
