import { type App, type BuildOptions, buildApp } from "../../src/main.ts";
import { createBackend, type TestBackend, testConfig } from "./backend.ts";

export interface TestServer {
  app: App;
  backend: TestBackend;
  base: string;
  ws: string;
  close(): Promise<void>;
}

/** Starts a real server on a free port with its own storage (and Redis prefix when configured). */
export async function startServer(
  overrides: Record<string, unknown> = {},
  options: BuildOptions & { backend?: TestBackend } = {},
): Promise<TestServer> {
  const backend = options.backend ?? (await createBackend());
  const app = await buildApp(testConfig(backend, overrides), options);
  const { port } = await app.listen();
  return {
    app,
    backend,
    base: `http://127.0.0.1:${port}`,
    ws: `ws://127.0.0.1:${port}`,
    async close() {
      await app.close();
      if (!options.backend) await backend.cleanup();
    },
  };
}

export interface Reply<T = unknown> {
  status: number;
  body: T;
}

/** POSTs JSON (or a raw string) and parses the JSON answer. */
export async function post<T = { code: number; msg: string; data: unknown }>(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Reply<T>> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}
