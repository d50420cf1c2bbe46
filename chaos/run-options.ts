/**
 * `npm run chaos -- [--seed N] [--minutes M]`. Pure. Without --seed one is drawn (and printed,
 * so the run can be replayed); --minutes is how long faults are injected, set-up and the
 * closing checks come on top.
 */
export interface RunOptions {
  seed: number;
  minutes: number;
  /** Whether the seed was given (a replay) or drawn. */
  seedGiven: boolean;
}

export const DEFAULT_MINUTES = 15;
/** A full run: at or above this, the run's report becomes chaos/reports/latest.md. */
export const FULL_RUN_MINUTES = 15;

export function parseRunOptions(argv: readonly string[], drawSeed: () => number): RunOptions {
  let seed: number | undefined;
  let minutes = DEFAULT_MINUTES;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--seed') {
      const v = value();
      if (!/^\d+$/.test(v) || Number(v) > 0xffffffff) throw new Error(`--seed: "${v}" is not an integer from 0 to 4294967295`);
      seed = Number(v);
    } else if (flag === '--minutes') {
      const v = value();
      const m = Number(v);
      if (!Number.isFinite(m) || m <= 0 || m > 120) throw new Error(`--minutes: "${v}" is not a number of minutes from above 0 to 120`);
      minutes = m;
    } else throw new Error(`unknown argument "${arg}" (use --seed N, --minutes M)`);
  }
  return { seed: seed ?? drawSeed() >>> 0, minutes, seedGiven: seed !== undefined };
}
