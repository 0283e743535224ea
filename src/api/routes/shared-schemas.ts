/** Schema pieces several routes declare alike (the OpenAPI document is generated from them: one wording each). */

/** `:id` of a file route. */
export const idParams = {
  type: "object",
  required: ["id"],
  properties: { id: { type: "string", minLength: 1, maxLength: 200, description: "the file's ingest id" } },
} as const;

/** Statuses every `/api` route can answer, whatever it does. */
export const ALL_COMMON = [400, 401, 421, 500, 503] as const;

export const BAD_ID = "an id longer than 200 characters, or badly percent-encoded (SLUICE_ERR_BAD_REQUEST)";

/** The header every POST requires (src/api/site-guard.ts): a cross-site form post cannot send it. */
export const postHeaders = {
  type: "object",
  required: ["X-Sluice-Request"],
  properties: {
    "X-Sluice-Request": {
      type: "string",
      description: "any value; required on every POST, as a cross-site form post cannot send it (403 without)",
    },
  },
} as const;
