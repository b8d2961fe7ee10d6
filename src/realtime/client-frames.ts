import { z } from "zod";
import { notEmpty, sendFields } from "../messages/schemas";
import type { ClientFrame } from "./protocol";

/** Client frames, validated with the same rules as REST. */
export const ClientFrameSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("send"), ...sendFields }).superRefine(notEmpty),
  z
    .object({ type: z.literal("receipt"), delivered_up_to: z.int().min(0).optional(), read_up_to: z.int().min(0).optional() })
    .refine((r) => r.delivered_up_to !== undefined || r.read_up_to !== undefined, "Give delivered_up_to, read_up_to, or both."),
  z.object({ type: z.literal("typing") }),
  z.object({ type: z.literal("auth"), ticket: z.string().min(1).max(200) }),
]) satisfies z.ZodType<ClientFrame>;
