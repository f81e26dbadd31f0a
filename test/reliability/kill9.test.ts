import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import Database from "better-sqlite3";
import pg from "pg";
import { contentOrThrow } from "../../src/core/messages/content.ts";
import { unitsToWire } from "../../src/core/wallet/amount.ts";
import type { User } from "../../src/ports/storage.ts";
import { createBackend, type TestBackend } from "../helpers/backend.ts";
import type { Ack, SenderJob } from "../helpers/load-sender.ts";
import { runCli, spawnServer } from "../helpers/process-server.ts";
import { record } from "./figures.ts";
import { startNode } from "./world.ts";

/**
 * kill -9 under load, on this run's storage (SQLite by default, PostgreSQL + Redis in CI's second
 * run): sender PROCESSES (chat33 over WebSocket, direct and group; enterprise save_single_msg)
 * record every acknowledged message and claim processes every successful red-packet claim; the
 * server is killed with SIGKILL in the middle, then restarted. Every acknowledged message must be
 * stored exactly once (with the acked logId and seq), every conversation's seq must be gapless
 * 1..n and match its last_seq, every acked claim must be in the shares, and `parley wallet
 * verify` must pass — after the crash and after the restart.
 */

const HERE = new URL(".", import.meta.url).pathname;
const SENDERS = 3; // processes
const USERS = 12; // chat33 senders, 4 per process
const CLAIMERS = 120;

type Row = { conversation_id: number; seq: number; id: number; sender_id: number; client_msg_id: string };

/** Rows of `sql` from this backend's database, read directly (not through Parley). */
async function rows<T>(backend: TestBackend, sql: string): Promise<T[]> {
  if (backend.databaseUrl) {
    const c = new pg.Client({ connectionString: backend.databaseUrl });
    await c.connect();
    try {
      return (await c.query(sql)).rows as T[];
    } finally {
      await c.end();
    }
  }
  const db = new Database(join(backend.dataDir, "parley.db"), { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

function runNode(script: string, arg: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, arg], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`${script} exit ${code}`))));
  });
}

const lines = (file: string): number => {
  try {
    return statSync(file).size === 0 ? 0 : readFileSync(file, "utf8").split("\n").length - 1;
  } catch {
    return 0;
  }
};

describe("kill -9 under load", () => {
  let backend: TestBackend;
  let dir: string;
  const users: Array<{ user: User; token: string }> = [];
  const ent: Array<{ user: User; token: string }> = [];
  const claimers: Array<{ user: User; token: string }> = [];
  let groupId = 0;
  let packetId = "";

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "parley-kill9-"));
    backend = await createBackend();
    const s = await startNode({ "wallet.sendPerMinute": 1000 }, { backend });
    try {
      const a = s.app;
      const mk = async (name: string, device: "ios" | "pc" = "ios") => {
        const user = await a.accounts.createUser({ username: name, password: "secret-pass-1", nickname: name });
        return { user, token: (await a.accounts.startSession(user, { device, ip: "127.0.0.1" })).token };
      };
      for (let i = 0; i < USERS; i++) users.push(await mk(`ku${i}`));
      // a ring of friendships: each user talks to the next one
      for (let i = 0; i < USERS; i++) {
        const x = users[i].user;
        const y = users[(i + 1) % USERS].user;
        await a.friends.request(x, y.id, { reason: "hi" });
        await a.friends.respond(y, x.id, true);
      }
      for (let i = 0; i < 2; i++) ent.push(await mk(`ke${i}`, "pc"));
      await a.friends.request(ent[0].user, ent[1].user.id, { reason: "hi" });
      await a.friends.respond(ent[1].user, ent[0].user.id, true);
      for (let i = 0; i < CLAIMERS; i++) claimers.push(await mk(`kc${i}`));
      const g = await a.groups.create(users[0].user, {
        name: "kill9",
        userIds: [...users.slice(1), ...claimers].map((u) => u.user.id),
      });
      groupId = g.id;
      // seq starts somewhere: one message before the load
      await a.messages.send("group", users[0].user, groupId, {
        clientMsgId: "pre",
        content: contentOrThrow("text", { content: "before" }),
      });
      await a.wallet.deposit(users[0].user.id, 1, 100 * 10 ** 8, "fund-kill9");
      const { packet } = await a.redPackets.send(
        users[0].user,
        { cType: 1, toId: groupId, coin: 1, type: 1, amount: 100 * 10 ** 8, size: CLAIMERS, remark: "kill9" },
        (id) => `/p?id=${id}`,
      );
      packetId = packet.id;
    } finally {
      await s.close();
    }
  });
  after(async () => {
    await backend?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("every acknowledged message and claim survives exactly once; seq gapless; wallet verify passes", async () => {
    const server = await spawnServer(backend, {
      "chat33.msgRatePerUser": 100_000,
      "chat33.msgRatePerConnection": 100_000,
      "wallet.sweepMs": 1_000_000,
    });
    const ackFiles: string[] = [];
    const jobs = Array.from({ length: SENDERS }, (_, p) => {
      const out = join(dir, `acks-${p}.jsonl`);
      writeFileSync(out, "");
      ackFiles.push(out);
      const mine = users.filter((_, i) => i % SENDERS === p);
      const job: SenderJob = {
        out,
        ws: server.ws,
        base: server.base,
        prefix: `k9p${p}`,
        max: 100_000,
        window: 8,
        chat33: mine.map((u) => {
          const i = users.indexOf(u);
          return {
            token: u.token,
            userId: u.user.id,
            targets: [
              { channelType: 3, targetId: users[(i + 1) % USERS].user.id },
              { channelType: 2, targetId: groupId },
            ],
          };
        }),
        enterprise: p === 0 ? [{ token: ent[0].token, senderId: ent[0].user.id, receiverId: ent[1].user.id }] : [],
      };
      const file = join(dir, `job-${p}.json`);
      writeFileSync(file, JSON.stringify(job));
      return runNode(join(HERE, "../helpers/load-sender.ts"), file);
    });
    const claimJob = join(dir, "claims.json");
    writeFileSync(
      claimJob,
      JSON.stringify({
        urls: [server.base],
        packetId,
        tokens: claimers.map((c) => c.token),
        offset: 0,
        requests: CLAIMERS,
        concurrency: 1,
      }),
    );
    // claims trickle in (one at a time, each claimer once), so the kill lands mid-packet
    const claims = runNode(join(HERE, "../helpers/claim-client.ts"), claimJob);
    // kill -9 once the load is well under way: messages acknowledged, some claims made
    const target = Number(process.env.PARLEY_KILL9_ACKS ?? 1500);
    const claimedNow = async () =>
      Number(
        (
          await rows<{ n: number }>(
            backend,
            `SELECT COUNT(*) AS n FROM red_packet_shares WHERE packet_id = '${packetId}' AND state = 'claimed'`,
          )
        )[0]?.n ?? 0,
      );
    const end = Date.now() + 240_000;
    while (Date.now() < end) {
      if (ackFiles.reduce((a, f) => a + lines(f), 0) >= target && (await claimedNow()) >= 10) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await server.kill9();
    const summaries = (await Promise.all(jobs)).map((o) => JSON.parse(o) as { acked: number; refused: number });
    const claimAnswers = JSON.parse(await claims) as { answers: Array<[number, number, number]>; failures: number };

    const acks = ackFiles.flatMap((f) =>
      readFileSync(f, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Ack),
    );
    assert.ok(acks.length >= target, `the kill came under load (${acks.length} acks)`);
    assert.ok(
      acks.some((a) => a.surface === "enterprise"),
      "enterprise sends were acknowledged too",
    );

    // `parley wallet verify` straight after the crash (no server running)
    const first = await runCli(["wallet", "verify"], server.env);
    assert.equal(first.code, 0, first.out);
    assert.match(first.out, /wallet: consistent/);

    // restart, then check from the database
    const again = await startNode({}, { backend });
    try {
      const stored = await rows<Row>(
        backend,
        "SELECT conversation_id, seq, id, sender_id, client_msg_id FROM messages ORDER BY conversation_id, seq",
      );
      const byKey = new Map<string, Row[]>();
      for (const r of stored) {
        const k = `${r.sender_id}/${r.client_msg_id}`;
        byKey.set(k, [...(byKey.get(k) ?? []), r]);
      }
      let missing = 0;
      let duplicated = 0;
      let mismatched = 0;
      for (const a of acks) {
        const found = byKey.get(`${a.from}/${a.msgId}`) ?? [];
        if (found.length === 0) missing++;
        else if (found.length > 1) duplicated++;
        else if (Number(found[0].seq) !== a.seq || (a.logId && String(found[0].id) !== a.logId)) mismatched++;
      }
      // every conversation: seq 1..n without a gap, and last_seq = n
      const convs = await rows<{ id: number; last_seq: number }>(backend, "SELECT id, last_seq FROM conversations");
      const seqs = new Map<number, number[]>();
      for (const r of stored)
        seqs.set(Number(r.conversation_id), [...(seqs.get(Number(r.conversation_id)) ?? []), Number(r.seq)]);
      const gaps: string[] = [];
      for (const c of convs) {
        const s = seqs.get(Number(c.id)) ?? [];
        s.forEach((v, i) => {
          if (v !== i + 1 && gaps.length < 10) gaps.push(`conversation ${c.id}: seq ${v} at position ${i + 1}`);
        });
        if (s.length !== Number(c.last_seq))
          gaps.push(`conversation ${c.id}: last_seq ${c.last_seq}, ${s.length} messages`);
      }
      const ours = stored.filter((r) => /^k9p\d+-/.test(r.client_msg_id)).length;
      // every acked claim is stored for its claimer, with the acked amount
      const shares = await again.app.storage.wallet.shares(packetId);
      const claimed = new Map(shares.filter((x) => x.state === "claimed").map((x) => [x.claimerId, x.amount]));
      const ackedClaims = claimAnswers.answers.filter((a) => a[1] === 0);
      const lostClaims = ackedClaims.filter(
        ([t, , amount]) => unitsToWire(claimed.get(claimers[t].user.id) ?? -1) !== amount,
      );
      assert.deepEqual(await again.app.wallet.verify(), []);

      // the restarted node goes on where the conversations stopped
      const next = await again.app.messages.send("group", users[1].user, groupId, {
        clientMsgId: "after-restart",
        content: contentOrThrow("text", { content: "after" }),
      });
      const groupConv = await again.app.storage.messages.conversationByKey(`g:${groupId}`);
      assert.equal(next.view.seq, (seqs.get(Number(groupConv?.id)) ?? []).length + 1);

      record("kill -9 under load", {
        acked: acks.length,
        ackedChat33: acks.filter((a) => a.surface === "chat33").length,
        ackedEnterprise: acks.filter((a) => a.surface === "enterprise").length,
        stored: ours,
        storedNotAcked: ours - acks.length,
        missing,
        duplicated,
        mismatched,
        refusedFrames: summaries.reduce((a, s) => a + s.refused, 0),
        conversations: convs.length,
        seqGaps: gaps.length,
        claimsAcked: ackedClaims.length,
        claimsStored: claimed.size,
        claimsLost: lostClaims.length,
        claimRequestsFailedByKill: claimAnswers.failures,
        walletVerify: "consistent",
      });
      assert.equal(missing, 0, "acknowledged messages missing after the crash");
      assert.equal(duplicated, 0, "acknowledged messages stored twice");
      assert.equal(mismatched, 0, "stored seq/logId differ from the ack");
      assert.deepEqual(gaps, [], "gapless seq per conversation");
      assert.ok(ours >= acks.length);
      assert.equal(lostClaims.length, 0, "acknowledged claims lost");
    } finally {
      await again.close();
    }
    const second = await runCli(["wallet", "verify"], server.env);
    assert.equal(second.code, 0, second.out);
  });
});
