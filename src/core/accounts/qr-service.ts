import { createHash, randomBytes } from "node:crypto";
import type { Storage, User } from "../../ports/storage.ts";
import { forbidden, invalid } from "../errors.ts";
import type { CoreEvents, QrConfirmedEvent } from "../events.ts";
import { deviceTopic } from "../topics.ts";

const hashCode = (code: string) => createHash("sha256").update(code, "utf8").digest("hex");

/**
 * One-time codes behind QR images: login (a logged-in phone confirms, the waiting PC socket gets
 * a fresh session) and group-join links. Codes are random, stored hashed, single-use, and expire.
 */
export class QrService {
  constructor(
    private readonly storage: Storage,
    private readonly events: CoreEvents,
    private readonly ttlMs: number,
  ) {}

  private async create(
    kind: "login" | "group",
    fields: { deviceId?: string; platform?: string; targetId?: string; createdBy?: number | null },
  ) {
    const code = randomBytes(24).toString("base64url");
    const now = Date.now();
    await this.storage.qr.create({
      codeHash: hashCode(code),
      kind,
      deviceId: fields.deviceId ?? "",
      platform: fields.platform ?? "",
      targetId: fields.targetId ?? "",
      createdBy: fields.createdBy ?? null,
      createdAt: now,
      expiresAt: now + this.ttlMs,
      usedAt: null,
    });
    return code;
  }

  createLogin(deviceId: string, platform: string): Promise<string> {
    if (!deviceId) throw invalid("missing_parameter", "device is required");
    return this.create("login", { deviceId, platform });
  }

  createGroupJoin(createdBy: number, targetId: string, platform: string): Promise<string> {
    return this.create("group", { createdBy, targetId, platform });
  }

  /**
   * Uses a group-join code (single use): the `{userId}` part of the URL must be the actor. Returns
   * the group id and who made the code; the caller (GroupService.joinByLink) applies the rules.
   */
  async consumeGroupJoin(
    code: string,
    actor: User,
    userIdInUrl: string,
  ): Promise<{ groupId: number; createdBy: number | null }> {
    if (String(actor.id) !== userIdInUrl) throw forbidden("qr_wrong_user", "the URL's user is not you");
    const hashed = hashCode(code);
    const qr = await this.storage.qr.find(hashed);
    if (qr?.kind !== "group") throw invalid("qr_invalid", "unknown code");
    if (!(await this.storage.qr.consume(hashed, Date.now())))
      throw invalid("qr_expired", "code expired or already used");
    return { groupId: Number(qr.targetId), createdBy: qr.createdBy };
  }

  /**
   * The phone (`actor`) confirms a login code. The `{userId}` part of the URL must be the actor
   * itself: nobody can log a PC in as somebody else.
   */
  async confirmLogin(code: string, actor: User, userIdInUrl: string): Promise<void> {
    if (String(actor.id) !== userIdInUrl) throw forbidden("qr_wrong_user", "the URL's user is not you");
    const hashed = hashCode(code);
    const qr = await this.storage.qr.find(hashed);
    if (qr?.kind !== "login") throw invalid("qr_invalid", "unknown code");
    if (!(await this.storage.qr.consume(hashed, Date.now())))
      throw invalid("qr_expired", "code expired or already used");
    const event: QrConfirmedEvent = {
      type: "qr.confirmed",
      deviceId: qr.deviceId,
      userId: actor.id,
      platform: qr.platform,
    };
    await this.events.publish(deviceTopic(qr.deviceId), event);
  }
}
