import { z } from "@hono/zod-openapi";

const name = z.string().trim().max(150, "At most 150 characters.");

export const EmailSchema = z
  .email("Enter a valid email address.")
  .max(254)
  .transform((email) => email.toLowerCase());

export const PhoneSchema = z
  .string()
  .regex(/^\+[1-9]\d{1,14}$/, "Enter the number in E.164 form, such as +14155550123.");

export const PasswordSchema = z
  .string()
  .min(10, "Use at least 10 characters.")
  .max(1024, "Use at most 1024 characters.");

export const SignupSchema = z
  .object({
    email: EmailSchema,
    password: PasswordSchema,
    first_name: name.default(""),
    last_name: name.default(""),
    phone_number: PhoneSchema.nullish(),
    bio: z.string().max(2000).nullish(),
  })
  // Unknown keys are refused, as PATCH refuses them: `is_staff` at sign-up must not pass for accepted.
  .strict()
  .refine((u) => u.password.toLowerCase() !== u.email, {
    path: ["password"],
    message: "The password must not be the email address.",
  })
  .openapi("Signup");

export type SignupInput = z.infer<typeof SignupSchema>;

export const UserSchema = z
  .object({
    id: z.int(),
    email: z.string(),
    first_name: z.string(),
    last_name: z.string(),
    phone_number: z.string().nullable(),
    bio: z.string().nullable(),
    is_active: z.boolean(),
    is_staff: z.boolean(),
    show_presence: z.boolean().openapi({ description: "Whether people who share a conversation see when you are online." }),
    notification_previews: z.boolean().openapi({ description: 'Whether push notifications show the sender and the text, or only "New message".' }),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .openapi("User");

export type UserResource = z.infer<typeof UserSchema>;

// No email: people in a group would otherwise collect each other's addresses, and the one client that looks
// users up by email (web/src/api.ts findUserByEmail) already knows it and reads only the id.
export const PublicUserSchema = z
  .object({
    id: z.int(),
    first_name: z.string(),
    last_name: z.string(),
    bio: z.string().nullable(),
    online: z.boolean().openapi({ description: "A user stream of theirs is open; false when they hide their presence." }),
    last_seen_at: z.iso.datetime().nullable().openapi({ description: "When they last came online or went offline; null if never, or hidden." }),
  })
  .openapi("PublicUser", {
    description: "Another user, as people who share a conversation with them see them: no email, phone number or account flags.",
  });

export const ProfileChangesSchema = z
  .object({
    first_name: name.optional(),
    last_name: name.optional(),
    phone_number: PhoneSchema.nullable().optional(),
    bio: z.string().max(2000).nullable().optional(),
    show_presence: z.boolean().optional(),
    notification_previews: z.boolean().optional(),
    current_password: z.string().max(1024).optional(),
    new_password: PasswordSchema.optional(),
  })
  .strict()
  .openapi("ProfileChanges");

export type ProfileChanges = z.infer<typeof ProfileChangesSchema>;

export const StaffChangesSchema = z
  .object({ is_active: z.boolean().optional(), is_staff: z.boolean().optional() })
  .strict()
  .openapi("StaffChanges");

export type StaffChanges = z.infer<typeof StaffChangesSchema>;

export type PublicUser = z.infer<typeof PublicUserSchema>;
