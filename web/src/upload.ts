// Uploads a file as an attachment of a conversation: the raw bytes in the body (not multipart), through
// XMLHttpRequest because fetch cannot report upload progress.
import { ApiError, BOOKMARK, bookmarkHeader, keepBookmark, problemError } from "./api";
import { accessToken, refresh } from "./auth";
import type { Attachment } from "./types";

export type Upload = {
  /** The stored attachment; rejects with an ApiError, or an AbortError once cancelled. */
  done: Promise<Attachment>;
  cancel(): void;
};

/** Starts uploading `file` to conversation `id`; `progress` hears the fraction sent (0 to 1). */
export function uploadAttachment(id: number, file: File, progress: (fraction: number) => void): Upload {
  let xhr: XMLHttpRequest | null = null;
  let cancelled = false;
  const url = `/api/conversations/${id}/attachments/?name=${encodeURIComponent(file.name)}`;

  async function attempt(retried: boolean): Promise<Attachment> {
    const token = await accessToken();
    if (!token) throw new ApiError(401, "You are signed out.");
    if (cancelled) throw new DOMException("The upload was cancelled.", "AbortError");
    xhr = new XMLHttpRequest();
    const answer = await send(xhr, url, file, [["Authorization", `Bearer ${token}`], ["Accept", "application/json"], ...bookmarkHeader()], progress);
    if (answer.status === 401 && !retried) {
      // As api(): the token may have been rotated by another tab since it was read.
      await refresh().catch(() => {});
      return attempt(true);
    }
    keepBookmark(answer.getResponseHeader(BOOKMARK));
    let body: unknown = null;
    try {
      body = answer.responseText ? JSON.parse(answer.responseText) : null;
    } catch {
      // Not JSON (a proxy's error page): the status says enough.
    }
    if (answer.status < 200 || answer.status >= 300) throw problemError(answer.status, body);
    return body as Attachment;
  }

  return {
    done: attempt(false),
    cancel() {
      cancelled = true;
      xhr?.abort();
    },
  };
}

function send(xhr: XMLHttpRequest, url: string, file: File, headers: [string, string][], progress: (fraction: number) => void): Promise<XMLHttpRequest> {
  return new Promise((resolve, reject) => {
    xhr.open("POST", url);
    for (const [name, value] of headers) xhr.setRequestHeader(name, value);
    // The server checks the declared type against the bytes; an unknown one is stored as a plain download.
    xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    xhr.upload.addEventListener("progress", (event) => event.lengthComputable && progress(event.loaded / event.total));
    xhr.addEventListener("load", () => resolve(xhr));
    xhr.addEventListener("error", () => reject(new ApiError(0, "Hey cannot be reached. Check your connection.")));
    xhr.addEventListener("abort", () => reject(new DOMException("The upload was cancelled.", "AbortError")));
    // A File body: the browser streams it and sets Content-Length, which the server requires.
    xhr.send(file);
  });
}
