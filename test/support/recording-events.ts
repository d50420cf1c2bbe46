import type { ProxyEvents } from '../../src/proxy/proxy-events.js';

/** Records every proxy hook call, to check what the admin/metrics side will be told. */
export class RecordingEvents implements ProxyEvents {
  readonly calls: Array<{ hook: keyof ProxyEvents; e: Record<string, unknown> }> = [];
  private record(hook: keyof ProxyEvents, e: object): void {
    this.calls.push({ hook, e: e as Record<string, unknown> });
  }
  of(hook: keyof ProxyEvents): Array<Record<string, unknown>> {
    return this.calls.filter((c) => c.hook === hook).map((c) => c.e);
  }
  clear(): void {
    this.calls.length = 0;
  }
  connectionAccepted(e: object): void {
    this.record('connectionAccepted', e);
  }
  sessionStarted(e: object): void {
    this.record('sessionStarted', e);
  }
  sessionEnded(e: object): void {
    this.record('sessionEnded', e);
  }
  refused(e: object): void {
    this.record('refused', e);
  }
  holdStarted(e: object): void {
    this.record('holdStarted', e);
  }
  holdEnded(e: object): void {
    this.record('holdEnded', e);
  }
  fenced(e: object): void {
    this.record('fenced', e);
  }
  cancel(e: object): void {
    this.record('cancel', e);
  }
  unitRouted(e: object): void {
    this.record('unitRouted', e);
  }
  readRetried(e: object): void {
    this.record('readRetried', e);
  }
  replayChecked(e: object): void {
    this.record('replayChecked', e);
  }
  readHeld(e: object): void {
    this.record('readHeld', e);
  }
  sessionPinned(e: object): void {
    this.record('sessionPinned', e);
  }
  sessionMoved(e: object): void {
    this.record('sessionMoved', e);
  }
  sessionNotMoved(e: object): void {
    this.record('sessionNotMoved', e);
  }
}
