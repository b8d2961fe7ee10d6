// Signed out: sign in through Hey's OAuth pages, or create an account first.
import { ApiError, signUp } from "../api";
import { signIn } from "../auth";
import { el, field, setFieldError } from "../dom";

/** The welcome screen; `notice` explains why the user is here (a failed or cancelled sign-in). */
export function welcomeView(notice?: string): HTMLElement {
  const signInButton = el("button", { type: "button", class: "primary", onclick: () => void signIn().catch(fail) }, "Sign in");
  const status = el("p", { class: "notice", role: "alert" }, notice ?? "");
  const fail = (error: unknown) => (status.textContent = error instanceof Error ? error.message : String(error));

  const first = el("input", { name: "first_name", autocomplete: "given-name", maxlength: 150 });
  const last = el("input", { name: "last_name", autocomplete: "family-name", maxlength: 150 });
  const email = el("input", { name: "email", type: "email", autocomplete: "email", required: true, maxlength: 254 });
  const password = el("input", { name: "password", type: "password", autocomplete: "new-password", required: true, minlength: 10 });
  const inputs: Record<string, HTMLInputElement> = { first_name: first, last_name: last, email, password };
  const submit = el("button", { type: "submit" }, "Create account");

  const form = el(
    "form",
    { class: "card", "aria-labelledby": "signup-heading", novalidate: true },
    el("h2", { id: "signup-heading" }, "New to Hey?"),
    field("First name", first),
    field("Last name", last),
    field("Email", email),
    field("Password", password, "At least 10 characters."),
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const input of Object.values(inputs)) setFieldError(input, "");
    status.textContent = "";
    if (!form.checkValidity()) {
      for (const input of Object.values(inputs)) if (!input.validity.valid) setFieldError(input, input.validationMessage);
      form.querySelector<HTMLInputElement>("[aria-invalid]")?.focus();
      return;
    }
    submit.disabled = true;
    try {
      await signUp({ email: email.value, password: password.value, first_name: first.value, last_name: last.value });
      status.textContent = "Account created. Sign in with it on the next page.";
      // The app never sees a session: the new user signs in on Hey's own page, like everyone else.
      await signIn(undefined, email.value);
    } catch (error) {
      submit.disabled = false;
      if (error instanceof ApiError && error.errors.length) {
        for (const e of error.errors) if (inputs[e.path]) setFieldError(inputs[e.path]!, e.message);
        form.querySelector<HTMLInputElement>("[aria-invalid]")?.focus();
      } else fail(error);
    }
  });

  return el(
    "main",
    { class: "welcome" },
    el("h1", {}, "Hey"),
    el("p", { class: "lead" }, "Messages that arrive in order, everywhere."),
    status,
    el("section", { class: "card", "aria-labelledby": "signin-heading" }, el("h2", { id: "signin-heading" }, "Have an account?"), signInButton),
    form,
  );
}
