/** One-time codes behind QR images (login, group join links). */

export interface QrCode {
  /** sha256 hex of the code that travels in the URL. */
  codeHash: string;
  kind: "login" | "group";
  /** The waiting PC socket's device id (login) or empty. */
  deviceId: string;
  platform: string;
  /** Group id for `group` codes. */
  targetId: string;
  createdBy: number | null;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}

export interface QrRepo {
  create(code: QrCode): Promise<void>;
  find(codeHash: string): Promise<QrCode | null>;
  /** Marks a code used iff it is unused and unexpired at `now`; false otherwise (single use). */
  consume(codeHash: string, now: number): Promise<boolean>;
}
