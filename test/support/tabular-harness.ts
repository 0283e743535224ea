import { mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { type DuckSession, openDuck } from "../../src/processors/tabular/duckdb-session.js";
import {
  type ConvertResult,
  convertTabular,
  type TabularFormat,
  tabularFormatOf,
} from "../../src/processors/tabular/index.js";
import type { FeedSchema } from "../../src/processors/validate/index.js";

/** The DuckDB settings the tabular processor tests convert with. */
export const DUCK = { memoryLimit: "256MB", threads: 2 };

export interface TabularHarness {
  /** A DuckDB session of the test file's own, to read the Parquet back. */
  readonly reader: DuckSession;
  /** A fresh path for a file called `name` (its own directory: the name, which errors quote, stays as given). */
  path(name: string): string;
  /** Writes `content` as `name` and converts it by its extension into `NAME.parquet` beside it. */
  run(name: string, content: string | Buffer, schema?: FeedSchema | null): Promise<ConvertResult>;
}

/** A temp directory and a reader session for a test file of the tabular processor, both gone after it. */
export function useTabularHarness(prefix: string): TabularHarness {
  let reader: DuckSession | undefined;
  let dir = "";
  let n = 0;
  beforeAll(async () => {
    reader = await openDuck(DUCK);
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    reader?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const path = (name: string): string => {
    const sub = join(dir, String(n++));
    mkdirSync(sub);
    return join(sub, name);
  };
  return {
    get reader() {
      if (!reader) throw new Error("the tabular harness is used before its beforeAll ran");
      return reader;
    },
    path,
    run(name, content, schema = null) {
      const p = path(name);
      writeFileSync(p, content);
      return convertTabular(p, tabularFormatOf(name) as TabularFormat, `${p}.parquet`, { ...DUCK, schema });
    },
  };
}
