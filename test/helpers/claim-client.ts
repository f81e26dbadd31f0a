/**
 * A load client for the red-packet concurrency tests, run as its own process (so claims come from
 * several processes, as from several machines): `node --import tsx test/helpers/claim-client.ts
 * <job.json>`. The job names the servers (round-robin), the packet, the session tokens (request i
 * uses token i mod n) and how many requests to make with how many in flight. It prints one JSON
 * line: every answer's `result` with the token index and the amount.
 */
import { readFileSync } from "node:fs";

interface Job {
  urls: string[];
  packetId: string;
  tokens: string[];
  /** Index of this client's first request (so several clients spread over the tokens). */
  offset: number;
  requests: number;
  concurrency: number;
}

const job = JSON.parse(readFileSync(process.argv[2], "utf8")) as Job;
const answers: Array<[number, number, number]> = [];
let next = 0;
let failures = 0;

async function worker(): Promise<void> {
  for (;;) {
    const i = next++;
    if (i >= job.requests) return;
    const n = job.offset + i;
    const token = n % job.tokens.length;
    try {
      const res = await fetch(`${job.urls[n % job.urls.length]}/red-packet/receive-entry`, {
        method: "POST",
        headers: { "content-type": "application/json", "FZM-DEVICE": "iOS", "FZM-AUTH-TOKEN": job.tokens[token] },
        body: JSON.stringify({ packet_id: job.packetId }),
      });
      const body = (await res.json()) as { result: number; data: { amount?: number } };
      answers.push([token, body.result, body.data?.amount ?? 0]);
    } catch {
      failures++; // the server went away (the kill -9 test)
    }
  }
}

await Promise.all(Array.from({ length: job.concurrency }, worker));
process.stdout.write(`${JSON.stringify({ answers, failures })}\n`);
