import multipart from "@fastify/multipart";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { invalid } from "../../core/errors.ts";
import type { ReceivedUpload } from "../../core/files/file-service.ts";
import { isImage } from "../../core/files/sniff.ts";
import { multipartError, partBytes } from "../../http/multipart-errors.ts";
import { documentRoutes, rawResponse } from "../../http/openapi.ts";
import type { StoredFile } from "../../ports/storage/files.ts";
import { requireUser } from "./auth.ts";
import type { Chat33Deps } from "./deps.ts";
import { Codes, fail } from "./envelope.ts";
import { chat33Http, chat33Security } from "./http.ts";
import { envelope, Headers } from "./schemas.ts";

/** The types `/chat33/upload` takes (detected from the bytes, never the client's word). */
export const IMAGE_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"] as const;

/** Where an uploaded image is served, relative to the surface's mount. */
export const IMAGE_PATH = "/chat33/files/";

/** Blobs are content-addressed: a URL's bytes never change. */
const IMMUTABLE = "public, max-age=31536000, immutable";

const UploadData = Type.Object({
  id: Type.String({ description: "the upload's id" }),
  imageUrl: Type.String({ description: "path on this server: /chat33/files/<sha256> (put it in msg.imageUrl)" }),
  thumbUrl: Type.String({ description: "a thumbnail's path (the image itself when it is small)" }),
  url: Type.String({ description: "imageUrl as an absolute URL (server.publicUrl, else the request's host)" }),
  width: Type.Integer(),
  height: Type.Integer(),
  size: Type.Integer({ description: "bytes" }),
  mime: Type.String({ description: "the detected type" }),
});

const FileParams = Type.Object({ sha256: Type.String({ maxLength: 64, description: "64 hex digits" }) });
const SHA256_RE = /^[0-9a-f]{64}$/;

/**
 * Image uploads for chat33 clients, the web client's way to send msgType 3 (Parley extension;
 * docs/chat33.md "Images"): `POST /chat33/upload` (multipart, one file in `file`, the session
 * from `FZM-AUTH-TOKEN` or the cookie plus `FZM-DEVICE` — which a cross-site form cannot send)
 * stores the image through the file store (core/files: type from the bytes, size limit,
 * dimensions, thumbnail) and `GET /chat33/files/<sha256>` serves uploaded images only. Its own
 * scope: the surface's envelope and error handler, and the only chat33 scope that parses multipart.
 */
export async function uploadRoutes(app: FastifyInstance, deps: Chat33Deps): Promise<void> {
  const { accounts, files, config, mount } = deps;
  chat33Http.install(app);
  // the images themselves need no session (content-addressed names; <img> sends no headers)
  documentRoutes(app, { mount, security: (path) => (path.startsWith(IMAGE_PATH) ? undefined : chat33Security(path)) });
  await app.register(multipart, {
    limits: { fileSize: config.files.maxBytes, files: 1, fields: 4, fieldSize: 1024, parts: 5, headerPairs: 100 },
    throwFileSizeLimit: true,
  });

  chat33Http.route(app, {
    method: "POST",
    url: "/chat33/upload",
    schema: {
      summary: "上传图片 (Parley extension) — multipart, one PNG/JPEG/GIF/WebP in `file`; answers its URLs",
      tags: ["chat33 (002)"],
      headers: Headers,
      response: { 200: envelope(UploadData) },
    },
    handler: async (req: FastifyRequest) => {
      // the session first: nobody without one gets the body read
      const { user } = await requireUser(accounts, req.headers);
      if (!req.isMultipart()) throw invalid("not_multipart");
      const release = files.beginUpload();
      let upload: ReceivedUpload | null = null;
      let f: StoredFile;
      try {
        try {
          for await (const part of req.parts()) {
            if (part.type !== "file") continue;
            // streamed into the store as it arrives (staged until saved)
            if (part.fieldname === "file" && !upload)
              upload = await files.receive({
                source: partBytes(part.file),
                name: part.filename,
                clientType: part.mimetype,
                only: IMAGE_TYPES,
              });
            else part.file.resume();
          }
        } catch (e) {
          throw multipartError(e);
        }
        if (!upload) throw invalid("missing_upload");
        f = await files.save(user, upload);
      } finally {
        await upload?.discard();
        release();
      }
      const imageUrl = `${mount}${IMAGE_PATH}${f.sha256}`;
      const base = config.publicUrl.replace(/\/+$/, "") || `${req.protocol}://${req.host || "localhost"}`;
      return {
        result: 0,
        message: "操作成功",
        data: {
          id: String(f.id),
          imageUrl,
          thumbUrl: f.thumbSha256 ? `${mount}${IMAGE_PATH}${f.thumbSha256}` : imageUrl,
          url: `${base}${imageUrl}`,
          width: f.width ?? 0,
          height: f.height ?? 0,
          size: f.size,
          mime: f.mime,
        },
      };
    },
  });

  chat33Http.route(app, {
    // HEAD explicitly: Fastify's automatic HEAD route would read the whole blob and drop it.
    method: ["GET", "HEAD"],
    url: `${IMAGE_PATH}:sha256`,
    schema: {
      summary: "an uploaded image or its thumbnail (the imageUrl/thumbUrl of /chat33/upload); no session needed",
      tags: ["chat33 (002)"],
      params: FileParams,
      response: { 200: rawResponse("image/png", "the image's bytes, with its own Content-Type", "<bytes>", "binary") },
    },
    handler: async (req: FastifyRequest, reply: FastifyReply) => {
      const { sha256 } = req.params as { sha256: string };
      const info = SHA256_RE.test(sha256) ? await files.blobInfo(sha256) : null;
      // images only: other uploads (the enterprise surface's files) are not served here
      if (!info || !isImage(info.mime)) return reply.code(404).send(fail(Codes.paramError, "文件不存在"));
      const etag = `"${sha256}"`;
      reply
        .header("cache-control", IMMUTABLE)
        .header("etag", etag)
        .header("x-content-type-options", "nosniff")
        .header("content-security-policy", "sandbox");
      const inm = req.headers["if-none-match"];
      if (inm?.split(",").some((t) => t.trim().replace(/^W\//, "") === etag)) return reply.code(304).send();
      reply.header("content-type", info.mime).header("content-length", info.size);
      if (req.method === "HEAD") return reply.send();
      const stream = await files.openBlob(sha256);
      if (!stream) return reply.code(404).send(fail(Codes.paramError, "文件不存在"));
      return reply.send(stream);
    },
  });
}
