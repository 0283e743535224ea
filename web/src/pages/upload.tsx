import { type DragEvent, useEffect, useReducer, useRef, useState } from "react";
import { useApi } from "../api/context";
import type { FileView } from "../api/types";
import { uploadFile } from "../api/upload";
import { StatusBadge } from "../components/status-badge";
import { formatBytes } from "../lib/format";
import { hrefOf } from "../lib/router";
import { idsToFollow, percent, uploadsReducer } from "../lib/uploads";

let nextKey = 0;

/** Uploads run a few at a time: the rest queue in the browser rather than all competing for the link. */
const PARALLEL = 3;

export function Upload() {
  const api = useApi();
  const [entries, dispatch] = useReducer(uploadsReducer, []);
  const [dragging, setDragging] = useState(false);
  const picker = useRef<HTMLInputElement>(null);
  const queue = useRef<{ key: string; file: File }[]>([]);
  const active = useRef(0);

  const pump = () => {
    while (active.current < PARALLEL && queue.current.length > 0) {
      const { key, file } = queue.current.shift() as { key: string; file: File };
      active.current++;
      const h = uploadFile(api, file, (sent) => dispatch({ type: "progress", key, sent }));
      h.done
        .then((r) => {
          const id = r.files[0]?.id;
          if (id) dispatch({ type: "accepted", key, id });
          else dispatch({ type: "failed", key, error: "the server accepted no file" });
        })
        .catch((e: Error) => dispatch({ type: "failed", key, error: e.message }))
        .finally(() => {
          active.current--;
          pump();
        });
    }
  };

  const add = (files: FileList | null) => {
    if (!files || files.length === 0) return;
    const list = [...files].map((file) => ({ key: `u${nextKey++}`, file }));
    dispatch({
      type: "added",
      entries: list.map(({ key, file }) => ({ key, name: file.name, size: file.size, sent: 0, phase: "uploading" })),
    });
    queue.current.push(...list);
    pump();
  };

  // Follow every accepted upload until it is final (processed, partial, failed or duplicate).
  const follow = idsToFollow(entries).join(",");
  useEffect(() => {
    if (!follow) return;
    let stop = false;
    const tick = async () => {
      const views = await Promise.all(
        follow.split(",").map((id) => api.get<FileView>(`/api/v1/files/${encodeURIComponent(id)}`).catch(() => null)),
      );
      if (!stop) dispatch({ type: "statuses", views: views.filter((v): v is FileView => v !== null) });
    };
    void tick();
    const timer = setInterval(tick, 1000);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, [follow, api]);

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    add(e.dataTransfer.files);
  };

  return (
    <>
      <h1>Upload</h1>
      <section
        className={dragging ? "dropzone dragging" : "dropzone"}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
        aria-label="Drop files here"
      >
        <p>Drop files here, or</p>
        <label htmlFor="file-picker" className="button">
          Choose files…
        </label>
        <input
          id="file-picker"
          ref={picker}
          className="sr-only-input"
          type="file"
          multiple
          onChange={(e) => {
            add(e.target.files);
            if (picker.current) picker.current.value = "";
          }}
        />
        <p className="hint">
          Each file is stored in staging and ingested exactly once, like a file dropped on the host.
        </p>
      </section>
      {entries.length > 0 ? (
        <ul className="uploads" aria-label="Uploads">
          {entries.map((e) => (
            <li key={e.key} className="upload" data-testid="upload-entry">
              <div className="upload-head">
                <span className="file-name">{e.name}</span>
                <span>{formatBytes(e.size)}</span>
                {e.status ? <StatusBadge status={e.status} /> : null}
              </div>
              <progress max={100} value={percent(e)} aria-label={`Upload of ${e.name}`}>
                {percent(e)}%
              </progress>
              {e.phase === "error" ? (
                <p className="problem" role="alert">
                  {e.error}
                </p>
              ) : null}
              {e.id ? (
                <a href={hrefOf({ page: "file", id: e.id })} data-testid="upload-detail-link">
                  Details of {e.name}
                </a>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
    </>
  );
}
