#!/usr/bin/env node
/** The `patroni-router` command: run, check-config, status, auth-setup. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AUTH_SETUP_USAGE, runAuthSetup } from './cli/auth-setup.js';
import { checkConfig } from './cli/check-config.js';
import { runRouter } from './cli/run.js';
import { runStatus } from './cli/status.js';

const DEFAULT_CONFIG = '/etc/patroni-router/router.yml';

const USAGE = `usage:
  patroni-router [--config FILE] [--log-format json|pretty]   run the router (default config ${DEFAULT_CONFIG})
  patroni-router check-config FILE                             validate a configuration file and exit
  patroni-router status [--admin URL] [--token TOKEN]          members, roles, lag, tags, and where each listener routes now
  ${AUTH_SETUP_USAGE}
                                                               print the SQL for the auth_query role (links, SCRAM across terminated TLS)
  patroni-router --version | --help`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'check-config') {
    const file = rest[0];
    if (file === undefined) {
      process.stderr.write(`check-config needs a FILE\n${USAGE}\n`);
      return 2;
    }
    return checkConfig(file, (line) => process.stdout.write(`${line}\n`));
  }
  if (command === 'status') return runStatus(rest, (line) => process.stdout.write(`${line}\n`));
  if (command === 'auth-setup')
    return runAuthSetup(
      rest,
      (line) => process.stdout.write(`${line}\n`),
      (line) => process.stderr.write(`${line}\n`),
    );
  const args = command === 'run' ? rest : argv;
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        config: { type: 'string', short: 'c' },
        'log-format': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
      allowPositionals: false,
    });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (parsed.values.version) {
    process.stdout.write(`patroni-router ${version()}\n`);
    return 0;
  }
  const format = parsed.values['log-format'];
  if (format !== undefined && format !== 'json' && format !== 'pretty') {
    process.stderr.write(`--log-format takes json or pretty\n`);
    return 2;
  }
  return runRouter(parsed.values.config ?? DEFAULT_CONFIG, format);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`patroni-router: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
