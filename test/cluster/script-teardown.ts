/**
 * For a script that starts real things (the bench, the chaos run): a progress line with the
 * seconds since start, and the things to undo, newest first, once, also on SIGINT/SIGTERM.
 */

/** Something a script started, and how to undo it. */
export interface TeardownStep {
  what: string;
  undo: () => Promise<void>;
}

/** `[<name>   12 s] line` on stderr, counting from now. */
export function progressLine(name: string): (line: string) => void {
  const started = Date.now();
  return (line) => process.stderr.write(`[${name} ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
}

/**
 * The steps to undo and the one call that undoes them (newest first: what points at a thing
 * goes before it). A step that fails is reported and the rest still run. A signal tears down
 * and exits 130 (SIGINT) or 143 (SIGTERM).
 */
export function teardownOnExit(progress: (line: string) => void): { steps: TeardownStep[]; tearDown: () => Promise<void> } {
  const steps: TeardownStep[] = [];
  let tornDown = false;
  const tearDown = async (): Promise<void> => {
    if (tornDown) return;
    tornDown = true;
    for (const step of steps.reverse()) {
      try {
        await step.undo();
      } catch (error) {
        process.stderr.write(`teardown of ${step.what} failed: ${(error as Error).message}\n`);
      }
    }
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      progress(`${sig}: tearing down`);
      void tearDown().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
    });
  }
  return { steps, tearDown };
}
