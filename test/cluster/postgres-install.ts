import fs from 'node:fs';

const root = '/usr/lib/postgresql';

/** bin directory of the newest installed PostgreSQL major, e.g. /usr/lib/postgresql/15/bin. */
export function newestPostgresBinDir(): string {
  let majors: string[] = [];
  try {
    majors = fs.readdirSync(root);
  } catch {
    // reported below
  }
  const newest = majors.filter((major) => /^\d+(\.\d+)?$/.test(major) && fs.existsSync(`${root}/${major}/bin/postgres`)).sort((a, b) => Number(b) - Number(a))[0];
  if (newest === undefined) {
    throw new Error(`no PostgreSQL server found under ${root}/<major>/bin/postgres; run scripts/install-deps.sh`);
  }
  return `${root}/${newest}/bin`;
}
