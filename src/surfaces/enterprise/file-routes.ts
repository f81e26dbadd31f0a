import multipart from "@fastify/multipart";
import type { Static } from "@sinclair/typebox";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Authenticated } from "../../core/accounts/account-service.ts";
import { invalid, notFound } from "../../core/errors.ts";
import { parseRange, type ReceivedUpload } from "../../core/files/file-service.ts";
import { nameExtension } from "../../core/files/names.ts";
import { extensionOf, isImage, isMedia } from "../../core/files/sniff.ts";
import { multipartError, partBytes } from "../../http/multipart-errors.ts";
import { rawResponse } from "../../http/openapi.ts";
import type { StoredFile } from "../../ports/storage/files.ts";
import { type EnterpriseContext, publicBase, routeWith405 } from "./context.ts";
import { type Envelope, fail, ok } from "./envelope.ts";
import { FilePath, MessageResponses } from "./message-schemas.ts";
import { stripBearer, tokenOf } from "./params.ts";
import { AuthParams } from "./schemas.ts";

const tags = ["enterprise (001)"];

/** Blobs are content-addressed: a URL's bytes never change. */
const IMMUTABLE = "public, max-age=31536000, immutable";

/** The URLs of an upload, absolute (see `publicBase`), under `<mount>/files/`. */
export interface FileUrls {
  hdUrl: string;
  thumbUrl: string;
}

export function fileUrls(base: string, mount: string, f: StoredFile): FileUrls {
  const hdUrl = `${base}${mount}/files/${f.sha256}`;
  return { hdUrl, thumbUrl: f.thumbSha256 ? `${base}${mount}/files/${f.thumbSha256}` : hdUrl };
}

/** The `file_upload` answer. */
export function uploadVo(f: StoredFile, urls: FileUrls) {
  return {
    id: f.id,
    text: f.name,
    hdUrl: urls.hdUrl,
    type: null,
    thumbUrl: urls.thumbUrl,
    size: f.size,
    playTime: 0,
    category: extensionOf(f.mime) ?? nameExtension(f.name) ?? "",
  };
}

/**
 * `POST /api/file_upload` (multipart, field `file`) and `GET /files/:sha256` (the bytes). The
 * multipart parser is registered in a scope of its own, so no other route accepts multipart.
 */
export async function registerFileRoutes(api: FastifyInstance, ctx: EnterpriseContext): Promise<void> {
  const { files, config, mount } = ctx.deps;

  await api.register(async (scope) => {
    await scope.register(multipart, {
      limits: {
        fileSize: config.files.maxBytes,
        files: 1,
        fields: 16,
        fieldSize: 8 * 1024,
        parts: 17,
        headerPairs: 100,
      },
      throwFileSizeLimit: true,
    });

    routeWith405(scope, {
      method: "POST",
      url: "/api/file_upload",
      schema: {
        summary: "文件上传 FILE_UPLOAD — multipart/form-data, one file in the field `file` (authenticated)",
        tags,
        querystring: AuthParams,
        response: MessageResponses.upload,
      },
      handler: async (req): Promise<Envelope> => {
        // A token in the header/query is checked before the body is read; a form field
        // `authorization` (before or after the file) works too.
        const early = tokenOf(req);
        let auth: Authenticated | null = early ? await ctx.auth(req) : null;
        if (!req.isMultipart()) throw invalid("not_multipart");
        // The file streams into the store as it arrives (staged, invisible); it becomes a file
        // only once the uploader is known — a token field after the file included.
        const release = files.beginUpload();
        let upload: ReceivedUpload | null = null;
        try {
          let fieldToken: string | undefined;
          try {
            for await (const part of req.parts()) {
              if (part.type === "file") {
                if (part.fieldname === "file" && !upload)
                  upload = await files.receive({
                    source: partBytes(part.file),
                    name: part.filename,
                    clientType: part.mimetype,
                  });
                else part.file.resume();
              } else if (part.fieldname === "authorization" && typeof part.value === "string") {
                fieldToken = part.value;
              }
            }
          } catch (e) {
            throw multipartError(e);
          }
          auth ??= await ctx.deps.accounts.authenticate(stripBearer(fieldToken));
          if (!upload) throw invalid("missing_upload");
          const f = await files.save(auth.user, upload);
          return ok(uploadVo(f, fileUrls(publicBase(config.publicUrl, req), mount, f)), "上传成功");
        } finally {
          await upload?.discard(); // refused after it arrived (authentication): nothing is kept
          release();
        }
      },
    });
  });

  routeWith405(api, {
    // HEAD explicitly: Fastify's automatic HEAD route would read the whole blob and drop it.
    method: ["GET", "HEAD"],
    url: "/files/:sha256",
    schema: {
      summary: "an uploaded file or thumbnail (the hdUrl/thumbUrl of file_upload); no authentication",
      tags,
      params: FilePath,
      response: {
        200: rawResponse(
          "application/octet-stream",
          "the file's bytes, with its own Content-Type",
          "<the file's bytes>",
          "binary",
        ),
      },
    },
    handler: async (req: FastifyRequest, reply: FastifyReply) => {
      const { sha256 } = req.params as Static<typeof FilePath>;
      const info = await files.blobInfo(sha256);
      if (!info) throw notFound("file_not_found");
      const etag = `"${sha256}"`;
      const inm = req.headers["if-none-match"];
      if (inm?.split(",").some((t) => t.trim().replace(/^W\//, "") === etag))
        return reply.code(304).header("etag", etag).header("cache-control", IMMUTABLE).send();
      const range = req.headers.range ? parseRange(req.headers.range, info.size) : null;
      if (range === "unsatisfiable")
        return reply.code(416).header("content-range", `bytes */${info.size}`).send(fail(416, "请求范围无效"));
      // HEAD needs the headers only.
      const head = req.method === "HEAD";
      const stream = head ? null : await files.openBlob(sha256, range ?? undefined);
      if (!head && !stream) throw notFound("file_not_found");
      const inline = isImage(info.mime) || isMedia(info.mime);
      const filename = `${sha256.slice(0, 12)}.${extensionOf(info.mime) ?? "bin"}`;
      reply
        .header("content-type", info.mime.startsWith("text/") ? `${info.mime}; charset=utf-8` : info.mime)
        .header("x-content-type-options", "nosniff")
        .header("content-security-policy", "sandbox")
        .header("content-disposition", `${inline ? "inline" : "attachment"}; filename="${filename}"`)
        .header("cache-control", IMMUTABLE)
        .header("etag", etag)
        .header("accept-ranges", "bytes");
      if (range)
        reply
          .code(206)
          .header("content-range", `bytes ${range.start}-${range.end}/${info.size}`)
          .header("content-length", range.end - range.start + 1);
      else reply.header("content-length", info.size);
      return head ? reply.send() : reply.send(stream);
    },
  });
}
