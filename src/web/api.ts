// The page's side of the wire: fetch with the session cookie (sent by the browser) and
// the X-Svclab-Web header the server asks of every session request, and Kubernetes
// watches read as a stream of JSON lines.

const HEADERS = { 'X-Svclab-Web': '1', Accept: 'application/json' };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function check(res: Response): Promise<Response> {
  if (res.ok) return res;
  let message = `${res.status} ${res.statusText}`;
  try {
    const s = (await res.json()) as { message?: string };
    if (s.message) message = s.message;
  } catch {
    // not a Status
  }
  throw new ApiError(res.status, message);
}

export async function getJson<T>(path: string): Promise<T> {
  const res = await check(await fetch(path, { headers: HEADERS, credentials: 'same-origin' }));
  return (await res.json()) as T;
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  const res = await check(
    await fetch(path, {
      method: 'POST',
      headers: { ...HEADERS, 'Content-Type': 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify(body),
    }),
  );
  return (await res.json()) as T;
}

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/**
 * Follow a watch: `onEvent` for each event line until the stream ends or `signal` aborts.
 * Resolves when the server ends the stream.
 */
export async function watch<T>(
  path: string,
  onEvent: (e: WatchEvent<T>) => void,
  signal: AbortSignal,
): Promise<void> {
  const res = await check(
    await fetch(path, { headers: HEADERS, credentials: 'same-origin', signal }),
  );
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line !== '') onEvent(JSON.parse(line) as WatchEvent<T>);
    }
  }
}
