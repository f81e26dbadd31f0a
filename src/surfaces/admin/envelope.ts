import { MAX_JSON_DEPTH } from "../../core/json-limits.ts";
import { envelopeErrors } from "../../http/envelope.ts";
import { describeValidation } from "../../http/validation.ts";

/**
 * The admin envelope `{code, msg, data}` — the shared one of src/http/envelope.ts — with the admin
 * API's texts (docs/admin.md). A 500 never shows the core's message; a 503 does.
 */
export { type Envelope, fail, ok } from "../../http/envelope.ts";

export const { fromAppError, answer } = envelopeErrors({
  validation: describeValidation,
  bad_json: "body is not valid JSON",
  too_deep: `body nests deeper than ${MAX_JSON_DEPTH} levels`,
  empty_json: "body is empty: send a JSON object",
  too_large: "body too large",
  media_type: "send JSON (Content-Type: application/json)",
  serverError: (status, coreMessage) => (status === 500 ? "internal error" : coreMessage),
});
