/** One line of `MANIFESTS/YYYY/MM/DD/HH/manifest.jsonl`. Versioned: readers check `version`. */
export interface ManifestLineV1 {
  version: 1;
  ingest_id: string;
  status: "ingested" | "duplicate";
  path: string;
  name: string;
  sha256: string;
  device: number;
  inode: number;
  size: number;
  mtime: string;
  warehouse_path: string;
  ingested_at: string;
  duplicate_of?: string;
}
