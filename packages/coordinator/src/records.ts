/**
 * The records the coordinator keeps in etcd, decoded and checked as they are read: every
 * process of the cluster (of any version) writes them, so a value that does not have the
 * expected shape is refused, not cast. Unknown fields are dropped (a newer writer may add some).
 */
import { z } from 'zod';
import type { DrainRequest, MemberInfo, MoveRequest, PlacementRequest, SceneHandover } from './types.js';

const finite = z.number().finite();

const memberInfoSchema = z.object({
  id: z.string().min(1),
  role: z.enum(['gateway', 'engine', 'coordinator']),
  address: z.string(),
  load: finite,
  capacity: finite,
  startedAt: finite,
  idleScenes: z.record(z.string(), finite).optional(),
  scenes: finite.optional(),
  sceneLoads: z.record(z.string(), finite).optional(),
  utilisation: finite.min(0).max(1).optional(),
  threads: z.number().int().min(0).optional(),
  sceneCosts: z.record(z.string(), finite.min(0)).optional(),
  draining: z.boolean().optional(),
  localEngineId: z.string().min(1).optional(),
  desired: z.object({ engines: z.number().int().min(0), gateways: z.number().int().min(0) }).optional(),
});

const placementRequestSchema = z.object({
  requestedBy: z.string(),
  at: finite,
  refused: z.object({ code: z.string().min(1), message: z.string() }).optional(),
});

const placementSchema = z.object({ engineId: z.string().min(1), handover: z.object({ nextTickAt: finite, players: z.number().int().min(0) }).optional() });

const moveRequestSchema = z.object({ from: z.string().min(1), epoch: finite, to: z.string().min(1), at: finite });
const drainRequestSchema = z.object({
  startedAt: finite,
  requestedBy: z.string(),
  at: finite,
  share: z.object({ count: z.number().int().positive(), to: z.string().min(1) }).optional(),
});

/** What went wrong with a record, for the log. */
export class BadRecord extends Error {}

function parse<T>(schema: z.ZodType<T>, what: string, text: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BadRecord(`${what} is not JSON: ${text.slice(0, 80)}`);
  }
  const result = schema.safeParse(value);
  if (!result.success) throw new BadRecord(`${what} has a bad shape: ${result.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')}`);
  return result.data;
}

/** @throws BadRecord */
export function decodeMemberInfo(text: string): MemberInfo {
  return parse(memberInfoSchema, 'member record', text);
}

/** @throws BadRecord */
export function decodePlacementRequest(text: string): Omit<PlacementRequest, 'sceneId'> {
  return parse(placementRequestSchema, 'placement request', text);
}

/** @throws BadRecord */
export function decodePlacement(text: string): { readonly engineId: string; readonly handover?: SceneHandover | undefined } {
  return parse(placementSchema, 'placement', text);
}

/** @throws BadRecord */
export function decodeMoveRequest(text: string): Omit<MoveRequest, 'sceneId'> {
  return parse(moveRequestSchema, 'move request', text);
}

export function decodeDrainRequest(text: string): Omit<DrainRequest, 'memberId'> {
  return parse(drainRequestSchema, 'drain request', text);
}
