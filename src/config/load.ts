import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from './config-error.js';
import { fileSchema } from './schema.js';
import { normalise } from './normalise.js';
import type { RouterConfig } from './types.js';

/** `listeners.0.port` -> `listeners[0].port`: the way an operator reads a YAML path. */
function fieldName(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc === '' ? String(part) : `${acc}.${String(part)}`), '') || '(top level)';
}

function describeIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const where = fieldName(issue.path);
      return `${where === '(top level)' ? '' : `${where}: `}unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `\`${k}\``).join(', ')}`;
    }
    return `${fieldName(issue.path)}: ${issue.message}`;
  });
}

/** Parses and validates configuration text; `source` names the file in every error. */
export function parseConfig(text: string, source: string, env: NodeJS.ProcessEnv = process.env): RouterConfig {
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    throw new ConfigError(
      source,
      document.errors.map((e) => `YAML: ${e.message.split('\n')[0] ?? e.message}`),
    );
  }
  const raw: unknown = document.toJS() ?? {};
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(source, describeIssues(parsed.error.issues));
  const problems: string[] = [];
  const config = normalise(parsed.data, env, problems);
  if (problems.length > 0) throw new ConfigError(source, problems);
  config.source = source;
  return config;
}

export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): RouterConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [`cannot read the file: ${(error as Error).message}`]);
  }
  return parseConfig(text, path, env);
}
