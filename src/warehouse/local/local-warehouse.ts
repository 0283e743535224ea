import { chmodSync, createReadStream, fchmodSync, lstatSync, renameSync } from "node:fs";
import { access, constants, mkdir, readdir, rm, rmdir, stat } from "node:fs/promises";
import { dirname, join, sep } from "node:path";
import { errnoCode, SluiceError } from "../../core/errors.js";
import { type DirSyncer, mkdirDurable } from "../../durable/fsync.js";
import { copyHashed } from "../fetch-copy.js";
import { walkFiles } from "../walk.js";
import type {
  PutOptions,
  PutSource,
  StoredObject,
  Warehouse,
  WarehouseDirectory,
  WarehouseFailures,
  WarehouseView,
} from "../warehouse.js";
import { OccupiedError } from "../warehouse.js";
import { type Placement, placementFor } from "../warehouse-paths.js";
import { LocalWarehouseView, sha256OfFile } from "./local-view.js";
import { putFile } from "./put-file.js";

/**
 * The warehouse on a local filesystem. Files arrive either by rename (same
 * filesystem as staging) or from a temp copy written in `.sluice-tmp/`
 * (another filesystem), and are never written over.
 */
export class LocalWarehouse implements Warehouse, WarehouseDirectory {
  /** Where temp files are written before they are renamed in (on ROOT's filesystem). */
  readonly tmpDir: string;
  /** Nothing to bound: local calls are not requests to a server. */
  readonly requests = null;
  /**
   * Nothing is transient or a refusal at this level: a local call's errors (a full disk, lost permissions) are
   * judged by the caller's own retry (core/retry.ts), like every other filesystem write.
   */
  readonly failures: WarehouseFailures = {
    transient: () => false,
    refusal: () => null,
    describe: (err) => errnoCode(err) ?? (err instanceof Error ? err.name : "Error"),
  };
  /** This warehouse is itself the directory content is renamed into. */
  readonly directory = this;
  /** Partition directories made (or being made): the first file of a day creates it, the rest wait on that. */
  private readonly knownDirs = new Map<string, Promise<void>>();
  private device = -1;

  constructor(
    readonly root: string,
    private readonly dirs: DirSyncer,
    opts: {
      /** Where temp files live; default ROOT/.sluice-tmp (it must be on ROOT's filesystem for the renames). */
      tmpDir?: string;
      /** --warehouse-mode: permission bits of what is stored (see {@link modeFor}). */
      mode?: number;
      /** SHA-256 of a stored file, null when it is no regular file (the pipeline passes its worker pool's). */
      hash?: (path: string) => Promise<string | null>;
    } = {},
  ) {
    this.tmpDir = opts.tmpDir ?? join(root, ".sluice-tmp");
    this.mode = opts.mode ?? 0o444;
    this.hash = opts.hash ?? ((path) => sha256OfFile(path).catch(() => null));
  }

  private readonly mode: number;
  private readonly hash: (path: string) => Promise<string | null>;
  /** sluice's own user: only a file it already owns may be renamed in. */
  private readonly uid = process.geteuid?.() ?? -1;

  async open(): Promise<void> {
    await mkdir(this.tmpDir, { recursive: true });
    this.device = (await stat(this.root)).dev;
  }

  placement(name: string, sha256: string, at: Date): Placement {
    return placementFor(this.root, name, sha256, at);
  }

  /**
   * Must a source be copied into the temp area while it is hashed, rather than renamed in? Yes when it is on
   * another filesystem, and also when the rename would hand the producer the stored copy (issue 18, V3): a
   * file owned by another user keeps that owner through a rename, and any descriptor the producer opened for
   * writing before it keeps write access whatever the mode (so a chown/chmod after the rename is not enough);
   * a file with a second name (st_nlink > 1, a hard link the producer kept) would share its inode with the
   * warehouse. Only sluice's own single-named files are renamed: the common case costs nothing more.
   */
  needsCopy(dev: number, owner: { uid: number; nlink: number }): boolean {
    return dev !== this.device || owner.uid !== this.uid || owner.nlink > 1;
  }

  /**
   * The mode of a stored file or output whose source had `sourceMode`: the owner bits of --warehouse-mode,
   * and its group/other bits only where the source had them too: storing never makes content readable by
   * more users than its producer allowed (W4: a 0600 source gave a 0644 Parquet).
   */
  modeFor(sourceMode: number): number {
    return this.mode & (sourceMode | 0o700);
  }

  /**
   * Gives the content about to be stored its warehouse mode: the temp copy (by path; only sluice has it) or,
   * for a rename, the open source (by descriptor: the inode that was hashed, whatever the name points at now).
   * Called before the rename: a crash in between leaves sluice's own file in staging or the temp area, never
   * a stored file with the producer's mode. The directory fsync after the rename commits the journal that
   * holds this change (ext4, xfs), so the mode survives with the name.
   */
  seal(src: { fd: number; tmpPath: string | null; owner: { mode: number } }): void {
    const mode = this.modeFor(src.owner.mode);
    if (src.tmpPath) chmodSync(src.tmpPath, mode);
    else fchmodSync(src.fd, mode);
  }

  /** Is something already at `path`? Returns its (dev, ino) if so. */
  async occupant(path: string): Promise<{ dev: number; ino: number; size: number } | null> {
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(path, { throwIfNoEntry: false });
    } catch (err) {
      // Paths no file can ever have: this one file fails with a reason, the rest of its archive goes on (BUGS 1, 2).
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOTDIR") {
        throw new SluiceError(
          "SLUICE_ERR_NAME_COLLISION",
          `cannot store at ${path}: a directory on that path is a file already in the warehouse`,
        );
      }
      if (code === "ENAMETOOLONG") {
        throw new SluiceError("SLUICE_ERR_NAME_TOO_LONG", `cannot store at ${path}: the path is too long`);
      }
      throw err;
    }
    return st ? { dev: st.dev, ino: st.ino, size: st.size } : null;
  }

  /**
   * Creates the partition directory if needed; new directories are fsynced
   * into their parents so the path itself survives a power loss.
   */
  ensureDir(dir: string): Promise<void> {
    let made = this.knownDirs.get(dir);
    if (!made) {
      made = mkdirDurable(dir, this.dirs);
      this.knownDirs.set(dir, made);
      // A failed mkdir (ENOSPC, EACCES) is retried by the caller: do not remember the failure.
      made.catch(() => this.knownDirs.delete(dir));
    }
    return made;
  }

  /** fsync of a warehouse directory: the names just made in it survive a crash. */
  dirSync(dir: string): Promise<void> {
    return this.dirs.sync(dir);
  }

  /** rename() + fsync of the directory: after this resolves the move survives a crash. */
  async moveIn(from: string, to: string): Promise<void> {
    await this.ensureDir(dirname(to));
    renameSync(from, to);
    await this.dirs.sync(dirname(to));
  }

  /** Copies the source into the temp area (hashing it on the way), then links it in; see {@link Warehouse.put}. */
  async put(
    path: string,
    source: PutSource,
    meta: { sha256: string; size: number },
    opts: PutOptions = {},
  ): Promise<"uploaded" | "exists"> {
    const existing = await this.head(path);
    if (existing) {
      if (existing.sha256 === meta.sha256 && existing.size === meta.size) return "exists";
      if (!opts.replace) {
        throw new OccupiedError(`${path} already holds other content (${existing.size} bytes)`, path, existing);
      }
    }
    await putFile(this, path, source, meta, opts);
    return "uploaded";
  }

  async head(path: string): Promise<StoredObject | null> {
    const there = await this.occupant(path);
    return there && { size: there.size, sha256: await this.hash(path) };
  }

  async heldByOther(path: string, sha256: string): Promise<boolean> {
    if ((await this.occupant(path)) === null) return false;
    return (await this.hash(path)) !== sha256;
  }

  async fetch(path: string, dest: string): Promise<StoredObject | null> {
    const there = await this.occupant(path);
    if (!there) return null;
    try {
      return await copyHashed(createReadStream(path, { highWaterMark: 1 << 20 }), dest);
    } catch (err) {
      // Gone between the look and the read: as absent as if it had never been there.
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw err;
    }
  }

  async remove(path: string): Promise<void> {
    if (!path.startsWith(this.root + sep) || path.startsWith(join(this.root, ".sluice-tmp") + sep)) {
      throw new Error(`refusing to remove ${path}: not a warehouse object`);
    }
    await rm(path, { recursive: true, force: true });
    let dir = dirname(path);
    // A SQL dump's tables sit in `NAME.tables/`: the directory goes with its last table.
    if (dir.endsWith(".tables") && (await readdir(dir).catch(() => ["?"])).length === 0) {
      await rmdir(dir).catch(() => undefined);
      dir = dirname(dir);
    }
    // What survives a kill here: the unlink is durable once its directory is fsynced; a kill before leaves the
    // output, which the caller's recovery removes again (this call is safe to repeat).
    await this.dirs.sync(dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
  }

  list(): AsyncIterable<string> {
    // The whole `.sluice-tmp` is work area, every node's (a cluster node's own is a directory below it).
    const work = join(this.root, ".sluice-tmp");
    return walkFiles(this.root, (p) => p === work || p === this.tmpDir);
  }

  view(workArea: string): WarehouseView {
    return new LocalWarehouseView(this.root, workArea);
  }

  /** Content lands whole by rename: no upload is ever left unfinished here. */
  async abortStaleUploads(): Promise<string[]> {
    return [];
  }

  async check(): Promise<void> {
    await access(this.root, constants.W_OK);
  }

  async close(): Promise<void> {}
}
