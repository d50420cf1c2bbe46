import { Agent, request } from 'undici';

export interface HttpAnswer {
  status: number;
  body: string;
}

export interface HttpOptions {
  body?: string;
  timeoutMs?: number;
  /**
   * PEM certificate(s) to trust for https URLs, e.g. a test cluster's self-signed REST API
   * certificate (`readFileSync(cluster.restCaFile)`). Verification is never switched off.
   */
  ca?: string | Buffer;
}

/**
 * One HTTP or HTTPS request on a connection of its own that is closed afterwards: no sockets
 * left holding the event loop or pointing at a member that is about to be killed.
 */
export async function httpRequest(method: string, url: string, opts: HttpOptions = {}): Promise<HttpAnswer> {
  const timeoutMs = opts.timeoutMs ?? 3000;
  // pipelining 0 = no keep-alive; a dispatcher per request so closing it closes the socket.
  const dispatcher = new Agent({
    pipelining: 0,
    connect: { timeout: timeoutMs, ...(opts.ca === undefined ? {} : { ca: opts.ca }) },
  });
  try {
    const answer = await request(url, {
      method,
      dispatcher,
      signal: AbortSignal.timeout(timeoutMs),
      ...(opts.body === undefined ? {} : { body: opts.body, headers: { 'content-type': 'application/json' } }),
    });
    return { status: answer.statusCode, body: await answer.body.text() };
  } catch (error) {
    const reason = (error as Error).name === 'TimeoutError' ? 'timed out' : `failed: ${describe(error)}`;
    throw new Error(`${method} ${url} ${reason}`, { cause: error });
  } finally {
    await dispatcher.destroy();
  }
}

/** The message of an error and of its causes: undici wraps the socket's error (ECONNREFUSED, TLS) in `cause`. */
function describe(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error; e instanceof Error && parts.length < 4; e = e.cause) {
    const code = (e as NodeJS.ErrnoException).code;
    parts.push(code && !e.message.includes(code) ? `${e.message} (${code})` : e.message);
  }
  return parts.join(': ') || String(error);
}

/** GET/POST returning parsed JSON whatever the status (Patroni answers 503 with a JSON body). */
export async function httpJson(method: string, url: string, body?: unknown, opts: { timeoutMs?: number; ca?: string | Buffer } = {}): Promise<unknown> {
  const answer = await httpRequest(method, url, {
    ...opts,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  try {
    return JSON.parse(answer.body) as unknown;
  } catch {
    throw new Error(`${method} ${url} answered ${answer.status} with non-JSON: ${answer.body.slice(0, 200)}`);
  }
}
