import { randomBytes } from "node:crypto";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { AppError } from "../../core/errors.ts";
import { unitsToWire } from "../../core/wallet/amount.ts";
import { documentRoutes } from "../../http/openapi.ts";
import type { Chat33Deps } from "./deps.ts";
import { PACKET_PAGE } from "./red-packets.ts";

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);

const STATUS = { 1: "可领取", 2: "已领完", 3: "已过期" } as const;

/**
 * The page behind a packet's `packetUrl` (`<mount>/packets/pages/open.html?id=…`): a small page
 * rendered here, with its script inline (no CDN, nothing loaded from elsewhere; a strict CSP with
 * a per-response nonce). A logged-in browser (the FZM-AUTH-TOKEN cookie of /user/tokenLogin)
 * claims with /red-packet/receive-entry; anyone else goes the guest way: /red-packet/receive
 * (mark) → /red-packet/entry (mobile) → /send/sms + /red-packet/register-entry when the mobile
 * is new. The page itself shows only what a link holder may see (no claimers' names).
 */
export function redPacketPage(web: FastifyInstance, deps: Chat33Deps): void {
  documentRoutes(web, { mount: deps.mount, security: () => undefined });
  web.get<{ Querystring: { id?: string } }>(PACKET_PAGE, {
    schema: {
      summary: "红包页面 — the page packetUrl opens (HTML)",
      tags: ["chat33 (002)"],
      querystring: Type.Object({
        id: Type.Optional(Type.String({ maxLength: 64, examples: ["2168bf60-9f90-41e8-b129-6343f801ef65"] })),
      }),
      response: {
        200: {
          description: "the packet page",
          content: {
            "text/html": { schema: Type.String(), example: "<!doctype html><html>…</html>" },
          },
        },
      },
    },
    handler: async (req, reply) => {
      const nonce = randomBytes(12).toString("base64");
      reply
        .header("content-type", "text/html; charset=utf-8")
        .header(
          "content-security-policy",
          `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
        )
        .header("x-content-type-options", "nosniff")
        .header("cache-control", "no-store")
        .header("referrer-policy", "no-referrer");
      let body: string;
      try {
        const d = await deps.redPackets.detail(null, req.query.id ?? "");
        const coin = deps.wallet.coins.find((c) => c.id === d.packet.coin)?.name ?? String(d.packet.coin);
        body = `<h1>${esc(d.sender?.nickname || "好友")}的红包</h1>
<p class="remark">${esc(d.packet.remark)}</p>
<p>${unitsToWire(d.packet.amount)} ${esc(coin)} · ${d.packet.size} 个 · 剩余 ${d.remain} 个 · ${STATUS[d.status]}</p>
<div id="app" data-id="${esc(d.packet.id)}" data-mount="${esc(deps.mount)}" data-open="${d.status === 1 ? 1 : 0}"></div>`;
      } catch (e) {
        if (!(e instanceof AppError)) throw e;
        reply.code(404);
        body = "<h1>红包不存在</h1>";
      }
      return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>红包</title>
<style nonce="${nonce}">body{font-family:sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem;background:#c0392b;color:#fff}
button,input{font-size:1rem;padding:.5rem;margin:.25rem 0;width:100%;box-sizing:border-box}
.remark{font-size:1.2rem}#out{margin-top:1rem;font-weight:bold}</style></head>
<body>${body}
<div id="out" role="status"></div>
<script nonce="${nonce}">${SCRIPT}</script>
</body></html>`;
    },
  });
}

/** The page's script: plain DOM, fetch to this server only. */
const SCRIPT = `(() => {
  const app = document.getElementById("app");
  const out = document.getElementById("out");
  if (!app || app.dataset.open !== "1") return;
  const id = app.dataset.id, base = app.dataset.mount;
  let uuid = localStorage.getItem("parley-guest");
  if (!uuid) { uuid = crypto.randomUUID(); localStorage.setItem("parley-guest", uuid); }
  const call = async (path, body) => {
    const r = await fetch(base + path, { method: "POST", credentials: "same-origin",
      headers: { "content-type": "application/json", "FZM-DEVICE": "Web", "FZM-UUID": uuid }, body: JSON.stringify(body) });
    return r.json();
  };
  const say = (t) => { out.textContent = t; };
  const el = (tag, attrs) => Object.assign(document.createElement(tag), attrs);
  const form = (fields, label, onsubmit) => {
    const f = el("div", {});
    const inputs = fields.map((p) => { const i = el("input", p); f.append(i); return i; });
    const b = el("button", { textContent: label });
    b.addEventListener("click", () => onsubmit(inputs));
    f.append(b); app.replaceChildren(f);
  };
  const registerStep = (mark, mobile) => {
    form([{ placeholder: "短信验证码", inputMode: "numeric" }, { placeholder: "设置密码 (6-128位)", type: "password" }], "注册并领取",
      async ([code, pwd]) => {
        const r = await call("/red-packet/register-entry", { mark, account: mobile, captcha: code.value, password: pwd.value });
        if (r.result === 0) { app.replaceChildren(); say("注册成功，已领取 " + r.data.amount); } else say(r.message);
      });
    const sms = el("button", { textContent: "获取验证码" });
    sms.addEventListener("click", async () => { const r = await call("/send/sms", { mobile }); say(r.result === 0 ? "验证码已发送" : r.message); });
    app.prepend(sms);
  };
  const guest = async () => {
    const r = await call("/red-packet/receive", { packet_id: id });
    if (r.result !== 0) return say(r.message);
    const mark = r.data.mark;
    say("抢到 " + r.data.amount + "，输入手机号领取");
    form([{ placeholder: "手机号", inputMode: "numeric", maxLength: 11 }], "领取", async ([m]) => {
      const e = await call("/red-packet/entry", { mark, account: m.value });
      if (e.result !== 0) return say(e.message);
      if (e.data.recv_type === 1) { app.replaceChildren(); say("已存入账户: " + e.data.amount); }
      else { say(e.data.message); registerStep(mark, m.value); }
    });
  };
  const open = el("button", { textContent: "拆红包" });
  open.addEventListener("click", async () => {
    const r = await call("/red-packet/receive-entry", { packet_id: id });
    if (r.result === 0) { app.replaceChildren(); return say("领取成功: " + r.data.amount); }
    if ([-1003, -1004, -1007].includes(r.result)) return guest();
    say(r.message);
  });
  app.append(open);
})();`;
