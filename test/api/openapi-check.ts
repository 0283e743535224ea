import { Ajv2020 } from "ajv/dist/2020.js";
import formatsModule, { type FormatsPlugin } from "ajv-formats";
import { expect } from "vitest";

/**
 * Checks real responses against an OpenAPI 3.1 document: each response's
 * path, method and status must be documented, its content type must be one
 * the document gives for that status, and its body must validate against the
 * schema given there (Ajv, JSON Schema 2020-12, as OpenAPI 3.1 uses). It
 * remembers what it saw, so a test can ask which documented responses were
 * never exercised.
 */

// ajv-formats is CommonJS: its default export arrives wrapped under ESM.
const addFormats = ((formatsModule as unknown as { default?: FormatsPlugin }).default ??
  formatsModule) as FormatsPlugin;

type Doc = {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>>;
};

/** A response as received, whatever carried it (app.inject or a socket). */
export interface SeenResponse {
  method: string;
  /** The request URL (path and query). */
  url: string;
  status: number;
  contentType: string | undefined;
  body: string;
}

const DOC_ID = "openapi.json";
const pointer = (...segments: string[]) =>
  segments.map((s) => encodeURIComponent(s.replaceAll("~", "~0").replaceAll("/", "~1"))).join("/");

export class OpenApiChecker {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  /** "METHOD path status" of every response checked. */
  readonly seen = new Set<string>();
  private readonly templates: { path: string; re: RegExp }[];

  constructor(private readonly doc: Doc) {
    addFormats(this.ajv);
    this.ajv.addSchema(doc as object, DOC_ID);
    // Literal paths first: /files/{id}/invalid-rows must not be read as /files/{id} (the anchors see to it too).
    this.templates = Object.keys(doc.paths)
      .sort((a, b) => Number(a.includes("{")) - Number(b.includes("{")))
      .map((path) => ({
        path,
        re: new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+")}$`),
      }));
  }

  /**
   * The documented path template a URL falls under, or the bare path when none does. With a method, a template that
   * documents it (GET /api/v1/files/{id}/invalid-rows and a PUT of a file named invalid-rows… share URLs' shapes).
   */
  templateOf(url: string, method?: string): string {
    const path = url.split("?")[0] ?? "";
    const m = method?.toLowerCase();
    const matching = this.templates.filter((t) => t.re.test(path));
    return (matching.find((t) => m === undefined || this.doc.paths[t.path]?.[m]) ?? matching[0])?.path ?? path;
  }

  check(r: SeenResponse): void {
    const method = r.method.toLowerCase();
    const path = this.templateOf(r.url, method);
    const key = `${r.method.toUpperCase()} ${path} ${r.status}`;
    this.seen.add(key);
    const operation = this.doc.paths[path]?.[method];
    expect(operation, `${r.method} ${r.url}: no documented operation for ${path}`).toBeDefined();
    const documented = operation!.responses[String(r.status)];
    expect(documented, `${r.method} ${r.url} answered ${r.status}, which the document does not list`).toBeDefined();
    const media = (r.contentType ?? "").split(";")[0]!.trim().toLowerCase();
    const content = Object.keys(documented!.content ?? {});
    expect(content, `${key}: content type ${r.contentType} is not documented`).toContain(media);
    const validate = this.ajv.getSchema(
      `${DOC_ID}#/${pointer("paths", path, method, "responses", String(r.status), "content", media, "schema")}`,
    );
    expect(validate, `${key}: no schema for ${media}`).toBeDefined();
    const body: unknown = media === "application/json" ? JSON.parse(r.body) : r.body;
    const ok = validate!(body);
    expect(ok, `${key} (${r.url}): ${this.ajv.errorsText(validate!.errors)}\n${r.body.slice(0, 500)}`).toBe(true);
  }

  /** Every "METHOD path status" the document lists. */
  documented(): string[] {
    return Object.entries(this.doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).flatMap(([method, op]) =>
        Object.keys(op.responses).map((status) => `${method.toUpperCase()} ${path} ${status}`),
      ),
    );
  }

  /** Every "METHOD path" the document lists. */
  operations(): string[] {
    return Object.entries(this.doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
  }
}
