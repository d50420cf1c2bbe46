import { readFileSync } from 'node:fs';

/**
 * Resolves a secret given as `name`, `name_env` (environment variable) or `name_file`.
 * Returns problems as text naming the field, never the secret itself.
 */
export function resolveSecret(section: Record<string, unknown>, name: string, fieldPath: string, env: NodeJS.ProcessEnv, problems: string[]): string | undefined {
  const inline = section[name];
  const fromEnv = section[`${name}_env`];
  const fromFile = section[`${name}_file`];
  const given = [inline, fromEnv, fromFile].filter((v) => v !== undefined).length;
  if (given > 1) {
    problems.push(`${fieldPath}: give only one of \`${name}\`, \`${name}_env\`, \`${name}_file\``);
    return undefined;
  }
  if (typeof inline === 'string') return inline;
  if (typeof fromEnv === 'string') {
    const value = env[fromEnv];
    if (value === undefined) {
      problems.push(`${fieldPath}_env: environment variable ${fromEnv} is not set`);
      return undefined;
    }
    return value;
  }
  if (typeof fromFile === 'string') {
    try {
      return readFileSync(fromFile, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      problems.push(`${fieldPath}_file: cannot read ${fromFile}: ${(error as Error).message}`);
      return undefined;
    }
  }
  return undefined;
}
