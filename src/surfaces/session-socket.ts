import type { AccountService, Authenticated } from "../core/accounts/account-service.ts";
import { AppError } from "../core/errors.ts";
import type { SessionRevokedEvent } from "../core/events.ts";
import { sessionTopic, userTopic } from "../core/topics.ts";
import type { Connection } from "../realtime/connection.ts";
import type { ProtocolHandler } from "../realtime/protocol.ts";
import type { Realtime } from "../realtime/realtime.ts";

/** The session part of a socket's state (null sid = guest / anonymous). */
export interface SessionBound {
  sid: string | null;
  userId: number | null;
  /** The session's expiry (ms); the ping sweep ends the socket once it has passed. */
  expiresAt: number;
}

export interface SessionSocketOptions<S extends SessionBound> {
  realtime: Pick<Realtime, "subscribe">;
  accounts: Pick<AccountService, "authenticate" | "sessionStatus" | "recheckSessions">;
  /** The socket's session state (null while it has none, e.g. refused at the upgrade). */
  stateOf(conn: Connection): S | null;
  /** Tells the socket why its session ended (the surface's frame), then closes it. */
  end(conn: Connection, reason: string): void;
  /** Closes the socket after the revocation frame was already rendered to it by fan-out. */
  close(conn: Connection, reason: string): void;
}

/**
 * One helper for session-bound sockets (chat33, enterprise, later 003): authentication at the
 * upgrade, the subscriptions of a session, the re-check right after subscribing, expiry and
 * revocation on the sweep (per socket, then one batched query per protocol), and the reaction to
 * a revocation event. Surfaces keep their wire: frames, close codes and reasons.
 */
export function sessionSockets<S extends SessionBound>(o: SessionSocketOptions<S>) {
  return {
    /** The upgrade's token → the session, or the core's refusal (null: no token at all). */
    async authenticate(token: string | undefined): Promise<{ auth: Authenticated | null; failure: AppError | null }> {
      if (!token) return { auth: null, failure: null };
      try {
        return { auth: await o.accounts.authenticate(token), failure: null };
      } catch (e) {
        if (!(e instanceof AppError)) throw e;
        return { auth: null, failure: e };
      }
    },

    /**
     * Binds the socket to its session: subscribes to the session and user topics, then looks
     * again (a revocation published between the upgrade's check and the subscription was missed).
     * Returns false when the session had ended — the socket has then been ended.
     */
    async attach(conn: Connection, state: S, sid: string, userId: number): Promise<boolean> {
      await Promise.all([o.realtime.subscribe(conn, sessionTopic(sid)), o.realtime.subscribe(conn, userTopic(userId))]);
      const now = await o.accounts.sessionStatus(sid);
      if ("ended" in now) {
        o.end(conn, now.ended);
        return false;
      }
      state.expiresAt = now.expiresAt;
      return true;
    },

    /** For the protocol's `onEvent`: ends the socket of a revoked session. */
    onRevoked(conn: Connection, e: SessionRevokedEvent): void {
      const state = o.stateOf(conn);
      if (state && e.sid === state.sid) o.close(conn, e.reason);
    },

    /** The protocol's sweep hooks: expiry per socket; revocations whose notice was lost, batched. */
    sweep: {
      onSweep(conn: Connection, now: number): void {
        const state = o.stateOf(conn);
        if (state?.sid && state.expiresAt <= now) o.end(conn, "expired");
      },
      onSweepAll(conns: Connection[]): void {
        o.accounts.recheckSessions(
          conns,
          (c) => (c.closing ? null : o.stateOf(c)?.sid),
          (c, reason) => o.end(c, reason),
        );
      },
    } satisfies Pick<ProtocolHandler, "onSweep" | "onSweepAll">,
  };
}
