import { Agent, request } from 'undici';

/** A keep-alive HTTP client for Patroni REST APIs with short, bounded timeouts. */
export function restAgent(timeoutMs: number): Agent {
  return new Agent({ connect: { timeout: timeoutMs }, keepAliveTimeout: 10_000, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
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
