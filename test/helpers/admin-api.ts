import assert from "node:assert/strict";

/** The admin token every test server is configured with (test/helpers/backend.ts `testConfig`). */
export const ADMIN_TOKEN = "test-admin-token";

/** The admin API's envelope. */
export type AdminEnv<T = unknown> = { code: number; msg: string; data: T };
export type AdminReply<T = unknown> = { status: number; body: AdminEnv<T> };

/**
 * One JSON call to an admin API URL with `Authorization: Bearer <token>` (`null`: no header).
 * A string body is sent as it is (for malformed JSON), anything else as JSON.
 */
export async function adminApiCall<T = unknown>(
  url: string,
  method: "GET" | "POST" | "DELETE",
  body?: unknown,
  token: string | null = ADMIN_TOKEN,
): Promise<AdminReply<T>> {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as AdminEnv<T> };
}

/** The `data` of a reply that must be HTTP 200 (the body is shown when it is not). */
export async function adminApiData<T>(reply: Promise<AdminReply<T>>): Promise<T> {
  const r = await reply;
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.data;
}
