/** The tabular inputs sluice converts to Parquet. */
export type TabularFormat = "csv" | "tsv" | "json" | "jsonl";

const BY_EXTENSION: Record<string, TabularFormat> = {
  ".csv": "csv",
  ".tsv": "tsv",
  ".json": "json",
  ".jsonl": "jsonl",
  ".ndjson": "jsonl",
};

/** The format a file name announces (extension, any case), or null when it is not a tabular one. */
export function tabularFormatOf(name: string): TabularFormat | null {
  const m = /\.[^./\\]+$/.exec(name);
  return m ? (BY_EXTENSION[m[0].toLowerCase()] ?? null) : null;
}

export function delimiterOf(format: "csv" | "tsv"): string {
  return format === "tsv" ? "\t" : ",";
}
