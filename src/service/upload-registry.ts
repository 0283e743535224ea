import type { FileIdentity } from "../core/file-record.js";

/** An upload the API has put into staging that the pipeline has not picked up yet. */
export interface WaitingUpload {
  id: string;
  name: string;
  size: number;
  uploadTime: string;
}

const keyOf = (device: number, inode: number) => `${device}:${inode}`;

/**
 * Links an API upload to its ingest. The upload's id is handed to the client
 * at once, before the pipeline has seen the file; the pipeline asks here, by
 * the file's (device, inode) — the upload's own inode, renamed into staging —
 * and ingests it under that same id, so `GET /files/:id` follows the upload
 * from `waiting` to its final status.
 */
export class UploadRegistry {
  private readonly byKey = new Map<string, WaitingUpload>();
  private readonly byId = new Map<string, string>();

  add(upload: WaitingUpload, device: number, inode: number): void {
    const key = keyOf(device, inode);
    this.byKey.set(key, upload);
    this.byId.set(upload.id, key);
  }

  /** The id to ingest this file under, if the API received it. */
  idFor(identity: FileIdentity): string | undefined {
    return this.byKey.get(keyOf(identity.device, identity.inode))?.id;
  }

  /** The file reached a final state (or left staging): its row speaks for it from now on. */
  settled(identity: FileIdentity): void {
    const key = keyOf(identity.device, identity.inode);
    const u = this.byKey.get(key);
    if (!u) return;
    this.byKey.delete(key);
    this.byId.delete(u.id);
  }

  get(id: string): WaitingUpload | undefined {
    const key = this.byId.get(id);
    return key ? this.byKey.get(key) : undefined;
  }

  /** Newest first. */
  list(): WaitingUpload[] {
    return [...this.byKey.values()].sort((a, b) => (a.uploadTime < b.uploadTime ? 1 : -1));
  }
}
