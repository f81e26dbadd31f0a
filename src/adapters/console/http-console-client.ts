import type { ConsoleClient } from "../../ports/customers.ts";

/**
 * Sends reports to a customer console (`console.url`) over HTTP: JSON POSTs with a timeout. Any
 * answer but HTTP 200 with `code 0` is a failure (the reporter retries with backoff).
 */
export class HttpConsoleClient implements ConsoleClient {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 10_000,
  ) {}

  async commit(path: string, params: Record<string, unknown>): Promise<void> {
    const url = new URL(path.replace(/^\//, ""), this.baseUrl.endsWith("/") ? this.baseUrl : `${this.baseUrl}/`);
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(params),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.text();
    let code: unknown;
    let msg: unknown;
    try {
      ({ code, msg } = JSON.parse(text) as { code?: unknown; msg?: unknown });
    } catch {
      code = undefined;
    }
    if (res.status !== 200 || code !== 0)
      throw new Error(`console answered HTTP ${res.status}${typeof msg === "string" ? `: ${msg.slice(0, 200)}` : ""}`);
  }
}
