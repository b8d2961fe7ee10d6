// npm run createsuperuser -- --email E --password P [--first-name F] [--last-name L]
import { parseArgs } from "node:util";
import { DomainError } from "../src/errors";
import { SignupSchema } from "../src/users/schemas";
import { createUser } from "../src/users/users";
import { fail, withLocalDb } from "./local-db";

const { values } = parseArgs({
  options: {
    email: { type: "string" },
    password: { type: "string" },
    "first-name": { type: "string" },
    "last-name": { type: "string" },
  },
});

const parsed = SignupSchema.safeParse({
  email: values.email,
  password: values.password,
  first_name: values["first-name"],
  last_name: values["last-name"],
});
if (!parsed.success) {
  fail(parsed.error.issues.map((i) => `--${String(i.path[0] ?? "").replace("_", "-")}: ${i.message}`).join("; "));
}

try {
  const user = await withLocalDb((db) => createUser(db, parsed.data, { isStaff: true }));
  console.log(`Created staff user ${user.email} (id ${user.id}) in the local D1 database.`);
} catch (error) {
  if (error instanceof DomainError) fail(`no user created: ${error.message}`);
  throw error;
}
