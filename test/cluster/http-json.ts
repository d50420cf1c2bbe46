import http from 'node:http';

export interface HttpAnswer {
  status: number;
  body: string;
}

/**
 * One plain HTTP request without keep-alive (no sockets left holding the event loop or
 * pointing at a member that is about to be killed).
 */
export function httpRequest(
  method: string,
  url: string,
  opts: { body?: string; timeoutMs?: number } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        method,
        agent: false,
        timeout: opts.timeoutMs ?? 3000,
        headers: opts.body === undefined ? {} : { 'content-type': 'application/json' },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`${method} ${url} timed out`)));
    request.on('error', reject);
    request.end(opts.body);
  });
}

/** GET/POST returning parsed JSON whatever the status (Patroni answers 503 with a JSON body). */
export async function httpJson(method: string, url: string, body?: unknown, timeoutMs?: number): Promise<unknown> {
  const answer = await httpRequest(method, url, {
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
  try {
    return JSON.parse(answer.body) as unknown;
  } catch {
    throw new Error(`${method} ${url} answered ${answer.status} with non-JSON: ${answer.body.slice(0, 200)}`);
  }
}
