/**
 * Load client of bench/redpackets.ts, one process: reads a job (JSON file), sends claim requests
 * (`/red-packet/receive-entry`) with `concurrency` in flight over keep-alive connections, and
 * prints {latencies (ms) of the successful claims, answers per result code, wall ms}.
 */
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";

interface Job {
  base: string;
  /** One claim per entry: [token, packetId]. */
  claims: Array<[string, string]>;
  concurrency: number;
}

const job = JSON.parse(readFileSync(process.argv[2], "utf8")) as Job;
const url = new URL(job.base);
const agent = new Agent({ keepAlive: true, maxSockets: job.concurrency });

function claim(token: string, packetId: string): Promise<number> {
  const body = JSON.stringify({ packet_id: packetId });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: "/red-packet/receive-entry",
        method: "POST",
        agent,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          "FZM-DEVICE": "iOS",
          "FZM-AUTH-TOKEN": token,
        },
      },
      (res) => {
        let text = "";
        res.on("data", (d) => {
          text += d;
        });
        res.on("end", () => resolve((JSON.parse(text) as { result: number }).result));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const latencies: number[] = [];
const codes: Record<string, number> = {};
let next = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: job.concurrency }, async () => {
    for (;;) {
      const i = next++;
      if (i >= job.claims.length) return;
      const t0 = performance.now();
      const code = await claim(job.claims[i][0], job.claims[i][1]);
      if (code === 0) latencies.push(performance.now() - t0);
      codes[code] = (codes[code] ?? 0) + 1;
    }
  }),
);
process.stdout.write(`${JSON.stringify({ latencies, codes, wallMs: performance.now() - started })}\n`);
agent.destroy();
