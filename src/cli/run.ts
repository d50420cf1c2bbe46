import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { ConfigError } from '../config/config-error.js';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../observe/logger.js';
import { PatroniRouter } from '../patroni-router.js';
import { describeWorkers } from '../workers/worker-count.js';

/**
 * `patroni-router --config FILE`: runs until SIGTERM/SIGINT (drain, exit 0); SIGHUP reloads
 * the file, keeping the running configuration when the new one is invalid.
 */
export async function runRouter(configPath: string, format?: 'json' | 'pretty'): Promise<number> {
  let config;
  try {
    config = loadConfig(configPath);
  } catch (error) {
    process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
    return 2;
  }
  const logger: Logger = createLogger({ level: config.log.level, ...(format ? { format } : {}) });
  const router = new PatroniRouter({ config, logger, ...(format ? { logFormat: format } : {}) });
  try {
    await router.start();
  } catch (error) {
    logger.fatal({ err: (error as Error).message }, 'could not start');
    return 1;
  }
  logger.info(
    {
      config: configPath,
      listeners: router.listeners().map((l) => `${l.name} ${l.host}:${l.port} -> ${l.route}`),
      workers: describeWorkers(config.workers, availableParallelism()),
    },
    'patroni-router started',
  );

  let reloading = Promise.resolve();
  process.on('SIGHUP', () => {
    reloading = reloading.then(async () => {
      try {
        const next = loadConfig(configPath);
        const result = await router.reload(next);
        logger.level = next.log.level;
        logger.info({ config: configPath, ...result }, 'configuration reloaded');
      } catch (error) {
        const reason = error instanceof ConfigError ? error.problems : [(error as Error).message];
        logger.error({ config: configPath, reason }, 'reload refused; the running configuration stays');
        router.eventLog.record({ kind: 'reload', message: `reload refused, the running configuration stays: ${reason.join('; ')}` });
      }
    });
  });

  return new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      logger.info({ signal, drainTimeoutMs: router.config().drainTimeoutMs }, 'draining');
      void router.shutdown().then(
        () => {
          logger.info('stopped');
          resolve(0);
        },
        (error: unknown) => {
          logger.error({ err: (error as Error).message }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
