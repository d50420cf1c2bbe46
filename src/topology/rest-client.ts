import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import type { RestTls } from '../config/types.js';

/**
 * A keep-alive HTTP(S) client for Patroni REST APIs with short, bounded timeouts. Over HTTPS it
 * verifies the member's certificate against `tls.ca` (or the system's CAs) unless told not to.
 */
export function restAgent(timeoutMs: number, tls?: RestTls): Agent {
  const connect = {
    timeout: timeoutMs,
    ...(tls?.ca !== undefined ? { ca: readFileSync(tls.ca) } : {}),
    ...(tls?.cert !== undefined ? { cert: readFileSync(tls.cert) } : {}),
    ...(tls?.key !== undefined ? { key: readFileSync(tls.key) } : {}),
    ...(tls !== undefined && !tls.verify ? { rejectUnauthorized: false } : {}),
  };
  return new Agent({ connect, keepAliveTimeout: 10_000, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
}

/** GET a Patroni REST path (`/patroni`, `/cluster`) relative to a member's API URL; JSON body. */
export async function getPatroniJson(agent: Agent, apiUrl: string, path: string, timeoutMs: number, signal?: AbortSignal): Promise<unknown> {
  const url = new URL(path, apiUrl);
  const timeout = AbortSignal.timeout(timeoutMs);
  const res = await request(url, {
    method: 'GET',
    dispatcher: agent,
    signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
    headers: { accept: 'application/json' },
  });
  const text = await res.body.text();
  // Patroni answers 503 with the same JSON body on health endpoints; /patroni and /cluster are 200.
  if (res.statusCode >= 500 && text.length === 0) throw new Error(`HTTP ${res.statusCode}`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`HTTP ${res.statusCode}, not JSON: ${text.slice(0, 80)}`);
  }
}
