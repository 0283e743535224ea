import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { resolveRunConfig } from "../../src/config/resolve.js";
import { params } from "./support.js";

/** Configuration errors are printed on stderr (exit 2), which is often collected with the logs. */
describe("configuration errors", () => {
  // Found as BUG 14 (fixed): a --state / SLUICE_STATE value that is not a postgres:// URL was echoed whole in the
  // error, password included (`--state mysql://u:hunter2@db/x`). resolve.ts now masks it (`u:***@db`).
  it("never echoes the password of a mistyped state URL (BUG 14, fixed)", () => {
    const password = fc.stringMatching(/^[A-Za-z0-9]{6,16}$/);
    const scheme = fc.constantFrom("mysql://", "postgres//", "pg://", "postgresq://", "http://");
    fc.assert(
      fc.property(scheme, password, (s, pw) => {
        let message = "";
        try {
          resolveRunConfig({ state: `${s}sluice:${pw}@db.internal:5432/sluice` }, {}, {}, "/tmp");
        } catch (err) {
          message = (err as Error).message;
        }
        expect(message).not.toContain(pw);
      }),
      params("config state URL password", 0xc0f001, 50),
    );
  });
});
