import { useEffect, useRef, useState } from "preact/hooks";
import type { ConvKey } from "../../sdk/store.ts";
import type { Log, RedPacketDetail } from "../../sdk/types.ts";
import { Avatar, Modal } from "./common.tsx";
import { t } from "./i18n.ts";
import { Icon } from "./icons.tsx";
import { model, type PendingSend, useModel } from "./model.ts";
import { VirtualList } from "./VirtualList.tsx";

type Row = { kind: "msg"; log: Log } | { kind: "pending"; p: PendingSend } | { kind: "divider" };

const EMOJI = "😀 😂 🥲 😊 😍 🤔 😎 😭 😡 👍 👎 👏 🙏 💪 🎉 ❤️ 🔥 ✨ 🌹 🍵 🍺 🎁 🧧 ✅ ❌ ❓ 💯 🚀 🌙 ☀️".split(" ");
const RECALL_MS = 2 * 60 * 1000;

/** Uploaded images on this server (`/chat33/upload`): the only URLs shown as <img>. */
const OWN_IMAGE_RE = /^\/chat33\/files\/[0-9a-f]{64}$/;
/** The path of `url` when it is one of this server's uploaded images (a path, or an absolute URL of this origin). */
export function ownImagePath(url: unknown): string | null {
  if (typeof url !== "string" || url.length > 512) return null;
  if (OWN_IMAGE_RE.test(url)) return url;
  try {
    const u = new URL(url);
    return u.origin === location.origin && OWN_IMAGE_RE.test(u.pathname) && !u.search && !u.hash ? u.pathname : null;
  } catch {
    return null;
  }
}

/** Display size of an image within 240×240, from the dimensions the message gives (no layout shift). */
function fit(w: unknown, h: unknown): { width: number; height: number } {
  const W = typeof w === "number" && w > 0 ? w : 240;
  const H = typeof h === "number" && h > 0 ? h : 180;
  const k = Math.min(1, 240 / Math.max(W, H));
  return { width: Math.max(24, Math.round(W * k)), height: Math.max(24, Math.round(H * k)) };
}

const clock = (ms: number) => {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
};

/** One conversation: header, the virtualised history, the composer. */
export function Chat({ convKey }: { convKey: ConvKey }) {
  const m = useModel();
  const store = m.store;
  const [loading, setLoading] = useState(false);
  const [packet, setPacket] = useState<Log | null>(null);
  const [sendingPacket, setSendingPacket] = useState(false);
  const type = convKey[0];
  const id = convKey.slice(2);
  const conv = store?.get(convKey);
  const { name, avatar } = m.nameOf(convKey);
  const isGroup = type === "2";
  const myLevel = useGroupLevel(isGroup ? id : null);

  if (!store || !conv) return null;

  const held = new Set(conv.messages.map((x) => x.msgId));
  const rows: Row[] = [];
  for (const log of conv.messages) {
    if (conv.dividerSeq && log.seq === conv.dividerSeq) rows.push({ kind: "divider" });
    rows.push({ kind: "msg", log });
  }
  for (const p of m.pending.values()) if (p.key === convKey && !held.has(p.msgId)) rows.push({ kind: "pending", p });

  const loadOlder = async () => {
    if (loading || conv.older === null || !conv.live) return;
    setLoading(true);
    try {
      await store.loadOlder(convKey);
    } finally {
      setLoading(false);
    }
  };

  const audience = type === "1" ? m.rooms.find((r) => r.groupId === id)?.totalNumber : undefined;

  return (
    <section class="chat" aria-label={name}>
      <header class="chat-head">
        <button type="button" class="icon back" aria-label={t("back")} onClick={() => m.closeConversation()}>
          <Icon name="back" />
        </button>
        <Avatar name={name} src={avatar} />
        <div class="grow">
          <h2>{name}</h2>
          {audience !== undefined && <small>{t("audience", { n: audience })}</small>}
        </div>
        {m.conn !== "open" && <span class="conn">{m.conn === "connecting" ? t("offline") : t("connecting")}</span>}
        {type !== "1" && (
          <button
            type="button"
            class="icon"
            aria-label={t("settings")}
            onClick={() => {
              m.panel = m.panel ? null : isGroup ? "group" : "friend";
              m.notify();
            }}
          >
            <Icon name="more" size={18} />
          </button>
        )}
      </header>
      <VirtualList
        items={rows}
        resetKey={convKey}
        label={name}
        keyOf={(r) => (r.kind === "msg" ? r.log.logId : r.kind === "pending" ? `p:${r.p.msgId}` : "divider")}
        onNearTop={loadOlder}
        header={
          <p class="older">
            {conv.older === null
              ? conv.messages.length
                ? t("noOlder")
                : t("empty")
              : loading
                ? t("loadingOlder")
                : ""}
          </p>
        }
        render={(r) =>
          r.kind === "divider" ? (
            <div class="divider">
              <span>{t("newMessages")}</span>
            </div>
          ) : r.kind === "pending" ? (
            <PendingBubble p={r.p} />
          ) : (
            <Bubble log={r.log} convKey={convKey} level={myLevel} onPacket={setPacket} />
          )
        }
      />
      <Composer convKey={convKey} onPacket={type === "1" ? undefined : () => setSendingPacket(true)} />
      {packet && <OpenPacket log={packet} onClose={() => setPacket(null)} />}
      {sendingPacket && <SendPacket convKey={convKey} onClose={() => setSendingPacket(false)} />}
    </section>
  );
}

/** The caller's level in a group (1 member, 2 admin, 3 owner), from /room/info. */
function useGroupLevel(roomId: string | null): number {
  const [level, setLevel] = useState(1);
  useEffect(() => {
    if (!roomId) return;
    model.api
      .groupInfo(roomId)
      .then((g) => setLevel(g.memberLevel))
      .catch(() => {});
  }, [roomId]);
  return level;
}

function Bubble({
  log,
  convKey,
  level,
  onPacket,
}: {
  log: Log;
  convKey: ConvKey;
  level: number;
  onPacket: (l: Log) => void;
}) {
  const m = model;
  const [menu, setMenu] = useState(false);
  const mine = log.fromId === m.me?.id;
  const group = convKey[0] === "2";
  if (log.msgType === 6 || log.msgType === 0) {
    // a recalled message reads as the server's Chinese notice; say it in the reader's language
    const text = log.recalled
      ? `${log.senderInfo.nickname} ${t("recalled")}`
      : typeof log.msg.content === "string"
        ? log.msg.content
        : "";
    return (
      <div class="notice" role="note">
        {text}
      </div>
    );
  }
  const kind: 1 | 2 = group ? 1 : 2;
  const canRecall = convKey[0] !== "1" && ((mine && Date.now() - log.datetime < RECALL_MS) || (group && level >= 2));
  const canDelete = convKey[0] !== "1" && (mine || (group && level >= 2));
  const reads = mine && group ? m.receipts.get(log.logId) : undefined;
  const friend = convKey[0] === "3";
  const peerRead = mine && friend ? log.seq <= (m.peerRead.get(convKey.slice(2)) ?? 0) : false;
  const image = log.msgType === 3 ? ownImagePath(log.msg.imageUrl) : null;
  const thumb = image ? (ownImagePath(log.msg.thumbUrl) ?? image) : null;
  const content = typeof log.msg.content === "string" ? log.msg.content : "";
  return (
    <div class={`msg ${mine ? "mine" : ""}`} data-logid={log.logId}>
      {!mine && <Avatar name={log.senderInfo.nickname} src={log.senderInfo.avatar} small />}
      <div class="body">
        {!mine && convKey[0] !== "3" && <div class="who">{log.senderInfo.nickname}</div>}
        <div class="bubble-row">
          {log.msgType === 4 ? (
            <button type="button" class="packet" onClick={() => onPacket(log)}>
              <span class="packet-icon" aria-hidden="true">
                🧧
              </span>
              <span>
                <strong>{String(log.msg.remark || t("greeting"))}</strong>
                <small>{t("redPacket")}</small>
              </span>
            </button>
          ) : image && thumb ? (
            <a class="bubble image" href={image} target="_blank" rel="noopener noreferrer" aria-label={t("image")}>
              <img src={thumb} alt={t("image")} loading="lazy" {...fit(log.msg.width, log.msg.height)} />
            </a>
          ) : log.msgType === 3 ? (
            // an image elsewhere (another client's upload service): its address as text, never loaded
            <div class="bubble">
              [{t("image")}] {typeof log.msg.imageUrl === "string" ? log.msg.imageUrl : ""}
            </div>
          ) : (
            <div class="bubble">{content}</div>
          )}
          <div class="actions">
            <button
              type="button"
              class="icon small"
              aria-label={t("more")}
              aria-expanded={menu}
              onClick={() => setMenu(!menu)}
            >
              <Icon name="more" size={18} />
            </button>
            {menu && (
              <div class="menu" role="menu">
                {content && (
                  <button
                    type="button"
                    role="menuitem"
                    onClick={() => {
                      navigator.clipboard?.writeText(content).catch(() => {});
                      setMenu(false);
                    }}
                  >
                    {t("copy")}
                  </button>
                )}
                {canRecall && (
                  <button
                    type="button"
                    role="menuitem"
                    onClick={() => {
                      setMenu(false);
                      m.attempt(() => m.api.recall(kind, log.logId));
                    }}
                  >
                    {t("recall")}
                  </button>
                )}
                {canDelete && (
                  <button
                    type="button"
                    role="menuitem"
                    onClick={() => {
                      setMenu(false);
                      m.attempt(() => m.api.deleteMsg(kind, log.logId));
                    }}
                  >
                    {t("delete")}
                  </button>
                )}
              </div>
            )}
          </div>
        </div>
        <div class="meta">
          <time dateTime={new Date(log.datetime).toISOString()}>{clock(log.datetime)}</time>
          {mine && friend && (
            <span class={`peer-read ${peerRead ? "on" : ""}`} data-read={peerRead ? "1" : "0"}>
              {peerRead ? t("peerRead") : t("peerUnread")}
            </span>
          )}
          {mine && group && (
            <button
              type="button"
              class="link small receipt"
              onClick={async () => {
                const r = await m.attempt(() => m.api.readInfo(convKey.slice(2), log.logId));
                if (r) {
                  m.receipts.set(log.logId, r.readNumber);
                  m.notify();
                }
              }}
            >
              {reads === undefined ? t("read") : t("readBy", { n: reads })}
            </button>
          )}
        </div>
      </div>
    </div>
  );
}

function PendingBubble({ p }: { p: PendingSend }) {
  return (
    <div class={`msg mine ${p.state}`} data-msgid={p.msgId}>
      <div class="body">
        <div class="bubble-row">
          <div class="bubble">
            {p.msgType === 3 ? `[${t("image")}]` : typeof p.msg.content === "string" ? p.msg.content : ""}
          </div>
        </div>
        <div class="meta">
          {p.state === "sending" ? (
            <span class="status">{t("sending")}</span>
          ) : (
            <span class="status error" role="alert">
              {t("failed")}
              {p.error ? `: ${p.error}` : ""}{" "}
              <button type="button" class="link small" onClick={() => model.retry(p.msgId)}>
                {t("retry")}
              </button>
            </span>
          )}
        </div>
      </div>
    </div>
  );
}

function Composer({ convKey, onPacket }: { convKey: ConvKey; onPacket?: () => void }) {
  const m = useModel();
  const [text, setText] = useState("");
  const [emoji, setEmoji] = useState(false);
  const input = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  useEffect(() => {
    setText("");
    input.current?.focus();
  }, [convKey]);
  if (m.guest) return <p class="composer hint">{t("guestCannotSend")}</p>;
  const send = () => {
    const content = text.trim();
    if (!content) return;
    m.send(convKey, 1, { content });
    setText("");
  };
  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      <div class="tools">
        <button
          type="button"
          class="icon"
          aria-label={t("emoji")}
          aria-expanded={emoji}
          onClick={() => setEmoji(!emoji)}
        >
          <Icon name="smile" />
        </button>
        <button type="button" class="icon" aria-label={t("sendImage")} onClick={() => picker.current?.click()}>
          <Icon name="image" />
        </button>
        <input
          ref={picker}
          type="file"
          name="image"
          accept="image/png,image/jpeg,image/gif,image/webp"
          hidden
          onChange={(e) => {
            const file = e.currentTarget.files?.[0];
            e.currentTarget.value = "";
            if (file) m.sendImage(convKey, file);
          }}
        />
        {onPacket && (
          <button type="button" class="icon" aria-label={t("sendRedPacket")} onClick={onPacket}>
            <Icon name="packet" />
          </button>
        )}
        {emoji && (
          <div class="emoji" role="listbox" aria-label={t("emoji")}>
            {EMOJI.map((e) => (
              <button
                type="button"
                key={e}
                role="option"
                aria-selected={false}
                onClick={() => {
                  setText((x) => x + e);
                  setEmoji(false);
                  input.current?.focus();
                }}
              >
                {e}
              </button>
            ))}
          </div>
        )}
      </div>
      <textarea
        ref={input}
        rows={1}
        value={text}
        aria-label={t("typeMessage")}
        placeholder={t("typeShort")}
        maxLength={4000}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            send();
          }
        }}
      />
      <button type="submit" class="primary" disabled={!text.trim()}>
        {t("send")}
      </button>
    </form>
  );
}

/** Opens a red packet: its detail, the claim, and the amount counting up. */
function OpenPacket({ log, onClose }: { log: Log; onClose: () => void }) {
  const packetId = String(log.msg.packetId ?? "");
  const [detail, setDetail] = useState<RedPacketDetail | null>(null);
  const [shown, setShown] = useState(0);
  const [got, setGot] = useState<number | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    model.api
      .redPacketDetail(packetId)
      .then((d) => {
        setDetail(d);
        if (d.my_amount > 0) {
          setGot(d.my_amount);
          setShown(d.my_amount);
        }
      })
      .catch((e: Error) => setError(e.message));
  }, [packetId]);
  useEffect(() => {
    if (got === null || shown === got) return;
    const start = performance.now();
    let raf = 0;
    const step = (now: number) => {
      const k = Math.min(1, (now - start) / 900);
      setShown(got * (1 - (1 - k) ** 3));
      if (k < 1) raf = requestAnimationFrame(step);
    };
    raf = requestAnimationFrame(step);
    return () => cancelAnimationFrame(raf);
  }, [got]);
  const claim = async () => {
    try {
      const r = await model.api.claimRedPacket(packetId);
      setGot(r.amount);
      setDetail(await model.api.redPacketDetail(packetId));
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const coin = detail?.coin === 2 ? "YCC" : "BTY";
  return (
    <Modal title={t("redPacket")} onClose={onClose} class="packet-modal">
      <p class="packet-from">{detail?.sender_name ?? log.senderInfo.nickname}</p>
      <p class="packet-remark">{String(log.msg.remark || t("greeting"))}</p>
      {got !== null ? (
        <p class="packet-amount" aria-live="polite">
          <span data-amount={got}>
            {shown.toFixed(got % 1 ? Math.min(8, String(got).split(".")[1]?.length ?? 2) : 0)}
          </span>{" "}
          <small>{coin}</small>
        </p>
      ) : detail && detail.status === 1 ? (
        <button type="button" class="open-btn" onClick={claim} aria-label={t("openPacket")}>
          {t("openPacket")}
        </button>
      ) : detail ? (
        <p>{t("packetGone")}</p>
      ) : null}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {detail && (
        <ul class="claims">
          {detail.receive.map((c) => (
            <li key={c.uid}>
              <span>{c.username}</span>
              <span>
                {c.amount} {coin}
              </span>
            </li>
          ))}
        </ul>
      )}
    </Modal>
  );
}

function SendPacket({ convKey, onClose }: { convKey: ConvKey; onClose: () => void }) {
  const [amount, setAmount] = useState("1");
  const [size, setSize] = useState("1");
  const [kind, setKind] = useState<1 | 2>(1);
  const [coin, setCoin] = useState(1);
  const [remark, setRemark] = useState("");
  const [error, setError] = useState("");
  const [balance, setBalance] = useState<Array<{ coin: number; amount: number }>>([]);
  useEffect(() => {
    model.api
      .balance()
      .then(setBalance)
      .catch(() => {});
  }, []);
  const group = convKey[0] === "2";
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      await model.api.sendRedPacket({
        cType: group ? 1 : 0,
        toId: convKey.slice(2),
        coin,
        type: group ? kind : 2,
        amount: Number(amount),
        size: group ? Number(size) : 1,
        remark: remark || t("greeting"),
      });
      onClose();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const bal = balance.find((b) => b.coin === coin)?.amount ?? 0;
  return (
    <Modal title={t("sendRedPacket")} onClose={onClose}>
      <form class="stack" onSubmit={submit}>
        <label>
          {t("coin")}
          <select value={String(coin)} onChange={(e) => setCoin(Number(e.currentTarget.value))}>
            <option value="1">BTY</option>
            <option value="2">YCC</option>
          </select>
        </label>
        <p class="small">
          {t("balance")}: <span data-balance>{bal}</span>
        </p>
        <label>
          {t("amount")}
          <input
            name="amount"
            inputMode="decimal"
            value={amount}
            onInput={(e) => setAmount(e.currentTarget.value)}
            required
          />
        </label>
        {group && (
          <>
            <label>
              {t("count")}
              <input
                name="size"
                inputMode="numeric"
                value={size}
                onInput={(e) => setSize(e.currentTarget.value)}
                required
              />
            </label>
            <div class="seg">
              <button type="button" class={kind === 1 ? "on" : ""} onClick={() => setKind(1)}>
                {t("random")}
              </button>
              <button type="button" class={kind === 2 ? "on" : ""} onClick={() => setKind(2)}>
                {t("equal")}
              </button>
            </div>
          </>
        )}
        <label>
          {t("remark")}
          <input
            name="remark"
            value={remark}
            placeholder={t("greeting")}
            maxLength={32}
            onInput={(e) => setRemark(e.currentTarget.value)}
          />
        </label>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary">
          {t("sendRedPacket")}
        </button>
      </form>
    </Modal>
  );
}
