/**
 * A message sender for the kill -9 tests, run as its own process: `node --import tsx
 * test/helpers/load-sender.ts <job.json>`. It sends until the server goes away (or `max` per
 * sender) and appends one JSON line per ACKNOWLEDGED message to `job.out` the moment the ack
 * arrives (synchronously, so a line exists for every ack this process saw, whatever happens to
 * the server): chat33 over WebSocket (the success frame: logId + seq) for direct and group
 * conversations, and the enterprise `save_single_msg` (its answer: id + seq). Prints a JSON
 * summary line when done.
 */
import { appendFileSync, readFileSync } from "node:fs";
import WebSocket from "ws";

export interface SenderJob {
  out: string;
  ws: string;
  base: string;
  prefix: string;
  /** Most messages per sender (the kill usually comes first). */
  max: number;
  /** Messages one chat33 connection keeps in flight. */
  window: number;
  chat33: Array<{ token: string; userId: number; targets: Array<{ channelType: 2 | 3; targetId: number }> }>;
  enterprise: Array<{ token: string; senderId: number; receiverId: number }>;
}

export interface Ack {
  surface: "chat33" | "enterprise";
  from: number;
  msgId: string;
  /** The stored id when the surface tells it (chat33), else "". */
  logId: string;
  seq: number;
}

const job = JSON.parse(readFileSync(process.argv[2], "utf8")) as SenderJob;
let acked = 0;
let refused = 0;
const ack = (a: Ack) => {
  acked++;
  appendFileSync(job.out, `${JSON.stringify(a)}\n`);
};

function chat33(s: SenderJob["chat33"][number]): Promise<void> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${job.ws}/ws`, { headers: { "FZM-AUTH-TOKEN": s.token, "FZM-DEVICE": "iOS" } });
    let n = 0;
    let inFlight = 0;
    const pending = new Set<string>();
    const pump = () => {
      while (ws.readyState === ws.OPEN && inFlight < job.window && n < job.max) {
        const t = s.targets[n % s.targets.length];
        const msgId = `${job.prefix}-${s.userId}-${n++}`;
        pending.add(msgId);
        inFlight++;
        ws.send(
          JSON.stringify({
            eventType: 0,
            msgId,
            channelType: t.channelType,
            targetId: String(t.targetId),
            msgType: 1,
            msg: { content: msgId },
          }),
        );
      }
      if (n >= job.max && inFlight === 0) ws.close();
    };
    ws.on("open", pump);
    ws.on("message", (d) => {
      const f = JSON.parse(d.toString()) as {
        eventType: number;
        msgId?: string;
        fromId?: string;
        logId?: string;
        seq?: number;
        code?: number;
      };
      if (f.eventType !== 0 || typeof f.msgId !== "string" || !pending.has(f.msgId)) return;
      if (f.code !== undefined) {
        refused++;
      } else {
        if (String(f.fromId) !== String(s.userId)) return; // someone else's message with a colliding id: not ours
        ack({ surface: "chat33", from: s.userId, msgId: f.msgId, logId: String(f.logId), seq: Number(f.seq) });
      }
      pending.delete(f.msgId);
      inFlight--;
      pump();
    });
    ws.on("error", () => {});
    ws.on("close", () => resolve());
  });
}

async function enterprise(s: SenderJob["enterprise"][number]): Promise<void> {
  for (let n = 0; n < job.max; n++) {
    const id = `${job.prefix}-e${s.senderId}-${n}`;
    const q = new URLSearchParams({
      id,
      content: id,
      type: "1",
      senderId: String(s.senderId),
      receiverId: String(s.receiverId),
    });
    try {
      const res = await fetch(`${job.base}/api/save_single_msg?${q}`, {
        method: "POST",
        headers: { authorization: s.token },
      });
      // the answer's `id` is the client message id: the stored row is found by sender + id
      const body = (await res.json()) as { code: number; data: { id: string; seq: number } | null };
      if (body.code === 200 && body.data)
        ack({ surface: "enterprise", from: s.senderId, msgId: id, logId: "", seq: body.data.seq });
      else refused++;
    } catch {
      return; // the server went away
    }
  }
}

await Promise.all([...job.chat33.map(chat33), ...job.enterprise.map(enterprise)]);
process.stdout.write(`${JSON.stringify({ acked, refused })}\n`);
