import { type TSchema, Type } from "@sinclair/typebox";
import { Authorization, ErrorEnvelope, envelope, Nullable, params, Str } from "./schemas.ts";

/** Parameters and answers of the message, conversation-list and file routes (see schemas.ts). */

const Id = (description: string) => Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description });
const auth = { authorization: Type.Optional(Authorization) };

/** Longest message text accepted (characters). */
export const MAX_CONTENT = 10_000;
export const MAX_PAGE_SIZE = 100;

export const SaveSingleMsgParams = params({
  ...auth,
  content: Type.String({ maxLength: MAX_CONTENT, description: "发送的文本内容 (may be empty for types 2–5)" }),
  id: Type.String({
    minLength: 1,
    maxLength: 128,
    description:
      "client message id, e.g. 'cnbift' + Date.now() + Date.now(); a retry with the same id is answered with the original",
  }),
  receiverId: Id("接收人"),
  senderId: Id("发送人: must be the caller"),
  type: Type.Integer({ minimum: 1, maximum: 5, description: "1文本 2图片 3文件 4语音 5视频" }),
  // `["integer","null"]` (not anyOf) so a form/query value is coerced.
  fileId: Type.Optional(
    Type.Unsafe<number | null>({
      type: ["integer", "null"],
      minimum: 1,
      maximum: Number.MAX_SAFE_INTEGER,
      description: "id from /api/file_upload (required for types 2–5, must be the caller's upload)",
    }),
  ),
});

const Page = Type.Optional(
  Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1, description: "page number, from 1" }),
);
const Size = Type.Optional(
  Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: 20, description: "messages per page (≤ 100)" }),
);

export const FindSingleMsgParams = params({
  ...auth,
  page: Page,
  size: Size,
  receiverId: Id("one participant (the caller or the other user)"),
  senderId: Id("the other participant"),
});

export const FindGroupMsgParams = params({
  ...auth,
  page: Page,
  size: Size,
  groupId: Id("群id"),
  userId: Type.Optional(Id("the caller")),
});

export const MySessionParams = params({
  ...auth,
  userId: Type.Optional(Id("the caller's id (optional)")),
});

export const FilePath = Type.Object({
  sha256: Type.String({ maxLength: 200, description: "the file's sha256 (hex) from hdUrl/thumbUrl" }),
});

const SingleMsg = Type.Object({
  senderId: Type.Integer(),
  receiverId: Type.Integer(),
  content: Type.String({ description: "text, or the file name/URL of a file message" }),
  sendTime: Type.Integer({ description: "ms since epoch" }),
  state: Type.Union([Type.Literal(0), Type.Literal(2)], { description: "0 unread / 2 read by the receiver" }),
  type: Type.Integer({ description: "1文本 2图片 3文件 4语音 5视频" }),
  platform: Type.Null(),
  name: Type.String({ description: "sender's name" }),
  avatar: Str,
  id: Type.String({ description: "client message id" }),
  seq: Type.Integer({ description: "extension: per-conversation sequence number" }),
});

const Saved = Type.Object({
  senderId: Type.Integer(),
  receiverId: Type.Integer(),
  content: Type.String(),
  sendTime: Type.Integer(),
  seq: Type.Integer(),
  type: Type.Integer(),
  fileId: Nullable(Type.Integer()),
  atIds: Type.Null(),
  device: Type.Null(),
  id: Type.String(),
});

const Session = Type.Object({
  senderId: Nullable(Type.Integer()),
  receiverId: Nullable(Type.Integer()),
  content: Str,
  sendTime: Nullable(Type.Integer()),
  state: Type.Union([Type.Literal(0), Type.Literal(2)]),
  type: Nullable(Type.Integer()),
  platform: Type.Null(),
  name: Type.String(),
  avatar: Str,
  otherAvatar: Str,
  otherName: Str,
  miniType: Type.Integer({ description: "11016 新朋友, 11017 群助手, 11021 分析助手, 1100 single chat, 1101 group" }),
  count: Type.Integer({
    description: "unread messages (新朋友: pending friend requests, 群助手: pending group applications)",
  }),
  id: Str,
});

const Uploaded = Type.Object({
  id: Type.Integer({ description: "fileId for save_single_msg" }),
  text: Type.String({ description: "the file name (sanitised)" }),
  hdUrl: Type.String(),
  type: Type.Null(),
  thumbUrl: Type.String({ description: "thumbnail (images larger than files.thumbnailPx), else hdUrl" }),
  size: Type.Integer(),
  playTime: Type.Integer(),
  category: Type.String({ description: "extension: png, jpg, pdf, mp3…" }),
});

const page = (item: TSchema) =>
  Type.Object({ totalElements: Type.Integer(), totalPages: Type.Integer(), data: Type.Array(item) });

export const MessageResponses = {
  save: { 200: envelope(Saved, "消息发送成功"), "4xx": ErrorEnvelope },
  findSingle: { 200: envelope(page(SingleMsg), "操作成功！"), "4xx": ErrorEnvelope },
  findGroup: { 200: envelope(page(SingleMsg), "操作成功！"), "4xx": ErrorEnvelope },
  mySession: { 200: envelope(Type.Array(Session), "查询成功"), "4xx": ErrorEnvelope },
  upload: { 200: envelope(Uploaded, "上传成功"), "4xx": ErrorEnvelope },
};
