import fs from 'node:fs';

/** Which Patroni a test cluster runs: Debian 12's 3.0.2 or Debian 13's 4.0.7. */
export type PatroniMajor = '3' | '4';

/**
 * Where scripts/install-patroni-4.sh (run by install-deps.sh) unpacks Debian 13's patroni
 * package; keep in step with that script and scripts/ensure-ready.sh.
 */
export const patroni4Dir = '/opt/patroni-router/patroni-4.0.7';

/** A command line: the program and the arguments that come before the caller's. */
export interface CommandPrefix {
  command: string;
  args: string[];
}

export interface PatroniInstall {
  major: PatroniMajor;
  /** `<patroni> CONFIG_FILE` starts a member. */
  patroni: CommandPrefix;
  /** `<patronictl> -c CONFIG_FILE ...`. */
  patronictl: CommandPrefix;
  /** Added to the environment of both. */
  env: Record<string, string>;
}

/**
 * How to run Patroni and patronictl of one major. 3 is the Debian 12 package on PATH (its
 * scripts already use /usr/bin/python3). 4 is the unpacked package: it must run on Debian 12's
 * /usr/bin/python3 (whose dist-packages hold its dependencies), not the pyenv python3 that
 * comes first on root's PATH, with its own directory first on the module path.
 */
export function patroniInstall(major: PatroniMajor, dir4: string = patroni4Dir): PatroniInstall {
  if (major === '3') {
    return { major, patroni: { command: 'patroni', args: [] }, patronictl: { command: 'patronictl', args: [] }, env: {} };
  }
  const site = `${dir4}/usr/lib/python3/dist-packages`;
  if (!fs.existsSync(`${site}/patroni/__init__.py`)) {
    throw new Error(`patroni 4 is not unpacked in ${dir4}; run scripts/install-deps.sh as root (it runs scripts/install-patroni-4.sh)`);
  }
  return {
    major,
    patroni: { command: '/usr/bin/python3', args: ['-m', 'patroni'] },
    // `python3 -m patroni.ctl` prints nothing: the package has no __main__ for ctl.
    patronictl: { command: '/usr/bin/python3', args: ['-c', 'from patroni.ctl import ctl; ctl()'] },
    env: { PYTHONPATH: site },
  };
}
