/**
 * POST /api/tasks/:id/cutover: the cutover of an incremental task (src/engine/cutover.ts) with the
 * options in the body — { readOnly?, timeoutSec? } — or { undoReadOnly: true } to let the source
 * tables accept writes again. The answer is the cutover's result: its steps and the write downtime.
 */
import { z } from 'zod';
import { badRequest } from './http-error.js';

export const cutoverBody = z
  .object({
    readOnly: z.boolean().optional(),
    reverse: z.boolean().optional(),
    timeoutSec: z.number().int().min(1).max(86_400).optional(),
    undoReadOnly: z.boolean().optional(),
  })
  .strict();

export type CutoverBody = z.infer<typeof cutoverBody>;

export function readCutoverBody(raw: unknown): CutoverBody {
  const r = cutoverBody.safeParse(raw ?? {});
  if (r.success) return r.data;
  const i = r.error.issues[0];
  const field = i.code === 'unrecognized_keys' ? i.keys[0] : i.path.join('.');
  throw badRequest(
    `cutover: ${field || 'body'}: ${i.message}`,
    'send { readOnly?: boolean, reverse?: boolean, timeoutSec?: 1..86400 } or { undoReadOnly: true }',
    field,
  );
}
