/**
 * Named WebSocket close codes used by every surface. The reconnect policy for clients is written
 * in docs/ARCHITECTURE.md ("Close codes and reconnecting"):
 * - NORMAL, POLICY, AUTH_FAILED, KICKED: do not reconnect automatically (or only after user action).
 * - GOING_AWAY, SERVICE_RESTART, TRY_AGAIN_LATER (slow consumer, draining), IDLE_TIMEOUT: reconnect
 *   with jittered exponential backoff (e.g. 0.5 s · 2^n ± 50 %, capped at 30 s).
 * - MESSAGE_TOO_BIG: fix the client; reconnecting sends the same frame again.
 */
export const CloseCodes = {
  /** Closed on purpose (e.g. gateway `close_client`). */
  NORMAL: 1000,
  /** Server shutting down; reconnect (another node, or this one after restart). */
  GOING_AWAY: 1001,
  /** Handshake or protocol rule broken (e.g. gateway: missing or unknown systemId). */
  POLICY: 1008,
  /** A client frame larger than `ws.maxFrameBytes`. */
  MESSAGE_TOO_BIG: 1009,
  /** Unexpected server error. */
  INTERNAL: 1011,
  SERVICE_RESTART: 1012,
  /** The client could not keep up with its send buffer (slow consumer); reconnect and resync. */
  TRY_AGAIN_LATER: 1013,
  /** Authentication failed or the session was revoked/expired. */
  AUTH_FAILED: 4001,
  /** No frame (not even a pong) within `ws.idleTimeoutMs`. */
  IDLE_TIMEOUT: 4002,
  /** Another login replaced this session. */
  KICKED: 4003,
} as const;

export type CloseCode = (typeof CloseCodes)[keyof typeof CloseCodes];
