// @-completion in a message box: "@" and the start of a participant's name offers the people it fits;
// choosing one writes `<@id>`, the form in which the server recognises a mention.
import { el, nameOf } from "../dom";

type Person = { id: number; first_name: string; last_name: string };

/** Up to this many people are offered at once. */
const SHOWN = 6;
/** "@" at the start or after a space, then up to two words of a name, right before the caret. */
const TYPED = /(?:^|\s)@([^\s@<>]*(?: [^\s@<>]*)?)$/;

/**
 * Attaches the completion to `input` and returns its list, for the caller to place. Attach it before any
 * other keydown listener: while the list is open, Enter and Tab choose and go no further.
 */
export function mentionPicker(input: HTMLTextAreaElement, people: () => Person[]): HTMLElement {
  const list = el("ul", { class: "mention-picker", id: `${input.id}-mentions`, role: "listbox", "aria-label": "Mention someone", hidden: true });
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  let matches: Person[] = [];
  let active = 0;
  let start = 0;

  const close = () => {
    matches = [];
    list.hidden = true;
    input.removeAttribute("aria-activedescendant");
  };

  function show(): void {
    list.replaceChildren(
      ...matches.map((person, i) => {
        const option = el("li", { id: `${list.id}-${person.id}`, role: "option", "aria-selected": String(i === active) }, nameOf(person));
        // Chosen on mousedown, so the box keeps its focus (and its caret).
        option.addEventListener("mousedown", (event) => {
          event.preventDefault();
          choose(person);
        });
        return option;
      }),
    );
    list.hidden = false;
    input.setAttribute("aria-activedescendant", `${list.id}-${matches[active]!.id}`);
  }

  function choose(person: Person): void {
    const end = input.selectionStart;
    const token = `<@${person.id}> `;
    input.value = input.value.slice(0, start) + token + input.value.slice(end);
    input.setSelectionRange(start + token.length, start + token.length);
    close();
    // The box's own listeners (its counter, its height) see the change as typing.
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  input.addEventListener("input", () => {
    const typed = TYPED.exec(input.value.slice(0, input.selectionStart))?.[1];
    if (typed === undefined) return close();
    const query = typed.toLowerCase();
    matches = people()
      .filter((p) => [p.first_name, p.last_name, nameOf(p)].some((name) => name.toLowerCase().startsWith(query)))
      .slice(0, SHOWN);
    if (matches.length === 0) return close();
    start = input.selectionStart - typed.length - 1;
    active = 0;
    show();
  });
  input.addEventListener("keydown", (event) => {
    if (list.hidden || event.isComposing) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      active = (active + (event.key === "ArrowDown" ? 1 : matches.length - 1)) % matches.length;
      show();
    } else if (event.key === "Enter" || event.key === "Tab") {
      choose(matches[active]!);
    } else if (event.key === "Escape") {
      close();
    } else return;
    event.preventDefault();
    event.stopImmediatePropagation();
  });
  input.addEventListener("blur", close);
  return list;
}
