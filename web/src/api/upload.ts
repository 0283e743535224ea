import { type ApiClient, ApiError, authHeaders } from "./client";
import type { ApiErrorBody, UploadAccepted } from "./types";

export interface UploadHandle {
  done: Promise<UploadAccepted>;
  abort(): void;
}

/**
 * POST /api/v1/files for one file, with byte progress (fetch cannot report
 * upload progress; XMLHttpRequest can). A 401 asks for the token and sends
 * the file again.
 */
export function uploadFile(
  client: ApiClient,
  file: File,
  onProgress: (sent: number, total: number) => void,
): UploadHandle {
  let xhr: XMLHttpRequest | null = null;
  let aborted = false;
  const once = (token: string | null) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = new XMLHttpRequest();
      xhr = req;
      req.open("POST", "/api/v1/files");
      for (const [k, v] of Object.entries(authHeaders(token))) req.setRequestHeader(k, v);
      req.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
      req.onload = () => resolve({ status: req.status, body: req.responseText });
      req.onerror = () => reject(new ApiError(0, "NETWORK", "the upload was cut off (network error)"));
      req.onabort = () => reject(new ApiError(0, "ABORTED", "upload cancelled"));
      const form = new FormData();
      form.append("file", file, file.name);
      req.send(form);
    });
  const done = (async () => {
    for (;;) {
      const sent = client.token();
      const r = await once(sent);
      if (r.status === 401 && !aborted) {
        await client.newToken(sent);
        continue;
      }
      if (r.status === 202) return JSON.parse(r.body) as UploadAccepted;
      let body: Partial<ApiErrorBody> = {};
      try {
        body = JSON.parse(r.body) as Partial<ApiErrorBody>;
      } catch {
        // Not the API's error shape (a proxy's page): the status says enough.
      }
      throw new ApiError(r.status, body.code ?? "HTTP", body.message ?? `upload failed with HTTP ${r.status}`);
    }
  })();
  return {
    done,
    abort() {
      aborted = true;
      xhr?.abort();
    },
  };
}
