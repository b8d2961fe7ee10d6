// A message's attachments: images as thumbnails (the original, scaled by the browser: no image service),
// other files as a download link with their size. URLs are signed links (attachment-links.ts), filled
// in as they arrive.
import { cachedLink, forgetLink, linkTo } from "../attachment-links";
import { el } from "../dom";
import type { Attachment } from "../types";

/** The box a thumbnail fits in, in CSS pixels. */
const THUMBNAIL_PX = 240;

/** "512 bytes", "12 KB", "3.4 MB". */
export function fileSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} ${bytes === 1 ? "byte" : "bytes"}`;
  const [value, unit] = bytes < 1e6 ? [bytes / 1e3, "KB"] : bytes < 1e9 ? [bytes / 1e6, "MB"] : [bytes / 1e9, "GB"];
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${unit}`;
}

/** Only types whose bytes the server checked come as image/*; anything it could not vouch for is octet-stream. */
const isImage = (attachment: Attachment) => attachment.content_type.startsWith("image/");

/** Calls `use` with the attachment's link now if one is held, else once it arrives. */
function withLink(id: string, use: (url: string) => void): void {
  const url = cachedLink(id);
  if (url) return use(url);
  void linkTo(id).then((fresh) => fresh && use(fresh));
}

function thumbnail(attachment: Attachment): HTMLElement {
  const { width, height } = attachment;
  const scale = width && height ? Math.min(1, THUMBNAIL_PX / width, THUMBNAIL_PX / height) : 0;
  const box = scale ? { width: Math.max(1, Math.round(width! * scale)), height: Math.max(1, Math.round(height! * scale)) } : null;
  const img = el("img", { alt: attachment.name, width: box?.width, height: box?.height, loading: "lazy", decoding: "async" });
  const link = el("a", { class: box ? "thumbnail sized" : "thumbnail", target: "_blank", rel: "noopener noreferrer", title: `${attachment.name} (${fileSize(attachment.size)})` }, img);
  if (box) {
    // Sized before it loads, so the log does not jump when it does. The box holds the size, not the image:
    // an <img> with alt text and no src yet (its link is on its way) lays out as text, not at its width and
    // height. (Styles set through the CSSOM pass the app's CSP; style attributes in markup would not.)
    link.style.width = `${box.width}px`;
    link.style.aspectRatio = `${width} / ${height}`;
  }
  const show = (url: string) => {
    img.src = url;
    link.href = url;
  };
  // A link that expired while the page was open (an image scrolled into view later) is fetched once more.
  img.addEventListener("error", () => {
    forgetLink(attachment.id);
    withLink(attachment.id, show);
  }, { once: true });
  withLink(attachment.id, show);
  return link;
}

function fileLink(attachment: Attachment): HTMLElement {
  const link = el("a", { class: "file", download: attachment.name }, el("span", { class: "file-name" }, attachment.name), ` (${fileSize(attachment.size)})`);
  withLink(attachment.id, (url) => (link.href = url));
  link.addEventListener("click", (event) => {
    if (cachedLink(attachment.id)) return;
    // The link held is about to expire: fetch a new one and follow that instead.
    event.preventDefault();
    withLink(attachment.id, (url) => {
      link.href = url;
      link.click();
    });
  });
  return link;
}

/** The attachments of a stored message (null when it has none). */
export function attachmentList(attachments: readonly Attachment[]): HTMLElement | null {
  if (attachments.length === 0) return null;
  return el("ul", { class: "attachments", "aria-label": "Attachments" }, ...attachments.map((a) => el("li", {}, isImage(a) ? thumbnail(a) : fileLink(a))));
}

/** The attachments of a send not yet stored: names only, as nothing can be shown from the server yet. */
export function pendingAttachments(attachments: readonly Attachment[]): HTMLElement | null {
  if (attachments.length === 0) return null;
  return el("ul", { class: "attachments", "aria-label": "Attachments" }, ...attachments.map((a) => el("li", {}, `${a.name} (${fileSize(a.size)})`)));
}
