// A few DOM helpers: enough to build views without a framework.

type Props = Record<string, string | number | boolean | null | undefined | EventListener>;
type Child = Node | string | null | undefined | false;

/** Creates an element: `on*` props become listeners, booleans toggle attributes, the rest are attributes. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (typeof value === "function") node.addEventListener(key.slice(2).toLowerCase(), value);
    else if (value === true) node.setAttribute(key, "");
    else if (value !== false && value !== null && value !== undefined) node.setAttribute(key, String(value));
  }
  node.append(...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false));
  return node;
}

/** A labelled form field: the label is always visible and tied to the input. */
export function field(label: string, input: HTMLInputElement | HTMLTextAreaElement, hint?: string): HTMLElement {
  input.id ||= `f-${Math.random().toString(36).slice(2, 9)}`;
  const error = el("p", { class: "field-error", id: `${input.id}-error`, role: "alert" });
  input.setAttribute("aria-describedby", error.id);
  return el("div", { class: "field" }, el("label", { for: input.id }, label), input, hint ? el("p", { class: "hint" }, hint) : null, error);
}

/** Shows an error under a field made by `field()` (empty string clears it). */
export function setFieldError(input: HTMLElement, message: string): void {
  const error = document.getElementById(`${input.id}-error`);
  if (error) error.textContent = message;
  input.toggleAttribute("aria-invalid", message !== "");
}

/** "14:05" today, "Mon" this week, else "3 Mar". */
export function shortTime(iso: string, now = new Date()): string {
  const d = new Date(iso);
  const days = (now.getTime() - d.getTime()) / 86_400_000;
  if (d.toDateString() === now.toDateString()) return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (days < 6) return d.toLocaleDateString([], { weekday: "short" });
  return d.toLocaleDateString([], { day: "numeric", month: "short" });
}

/** A person's display name. */
export function nameOf(user: { first_name: string; last_name: string; id: number; email?: string }): string {
  return `${user.first_name} ${user.last_name}`.trim() || user.email || `User ${user.id}`;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
