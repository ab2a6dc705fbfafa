/**
 * The browser's view of the large map `field:<n>` (docs/aoi.md): entities from the SDK's
 * EntityTable, drawn around a camera that follows the player, interpolated one tick in the past,
 * with a minimap of the whole map showing the cells the player hears.
 */
import { EntityTable, type GameClient } from '@gos/client';
import { cellX, cellY } from '@gos/schema';
import type { EntityMap, protocol } from '../src/generated/protocol.js';
import { FIELD_SIZE } from '../src/field-map.js';

/** A player's dot (ours ringed in white) and name, at canvas pixel (x, y): both maps draw players so. */
export function drawPlayer(ctx: CanvasRenderingContext2D, x: number, y: number, color: number, name: string, mine: boolean): void {
  ctx.fillStyle = `#${(color & 0xffffff).toString(16).padStart(6, '0')}`;
  ctx.beginPath();
  ctx.arc(x, y, mine ? 10 : 8, 0, Math.PI * 2);
  ctx.fill();
  if (mine) {
    ctx.strokeStyle = '#fff';
    ctx.stroke();
  }
  ctx.fillStyle = '#ddd';
  ctx.fillText(name, x + 12, y + 4);
}

/** World units across the canvas. */
const SPAN = 700;
const MINIMAP = 170;
const INTERPOLATE_MS = 100;

type Field = EntityTable<EntityMap['field']>;

const CRITTER_COLORS = ['#e0b050', '#c070e0', '#60d0a0', '#e06060'];

export class FieldView {
  readonly table: Field;

  constructor(client: GameClient<typeof protocol>) {
    this.table = new EntityTable(client);
  }

  /** The player's own avatar (by its name: names are unique per account). */
  own(name: string): { x: number; y: number } | null {
    for (const e of this.table.values()) {
      if (e.type === 'Avatar' && e.values.name === name) return { x: e.values.x, y: e.values.y };
    }
    return null;
  }

  /** Canvas pixel → world point, around the camera at `me`. */
  toWorld(me: { x: number; y: number }, canvas: HTMLCanvasElement, px: number, py: number): { x: number; y: number } {
    const s = canvas.width / SPAN;
    return { x: me.x + (px - canvas.width / 2) / s, y: me.y + (py - canvas.height / 2) / s };
  }

  draw(ctx: CanvasRenderingContext2D, me: { x: number; y: number }, myName: string): void {
    const { width, height } = ctx.canvas;
    const s = width / SPAN;
    const ox = me.x - width / 2 / s;
    const oy = me.y - height / 2 / s;
    ctx.fillStyle = '#18221a';
    ctx.fillRect(0, 0, width, height);
    // The cells this client hears, and the map's edge.
    const cs = this.table.cellSize;
    if (cs > 0) {
      ctx.fillStyle = '#1e2e20';
      for (const cell of this.table.cells) ctx.fillRect((cellX(cell) * cs - ox) * s, (cellY(cell) * cs - oy) * s, cs * s, cs * s);
      ctx.strokeStyle = '#2a3c2a';
      for (let g = Math.floor(ox / cs) * cs; g <= ox + SPAN; g += cs) {
        ctx.beginPath();
        ctx.moveTo((g - ox) * s, 0);
        ctx.lineTo((g - ox) * s, height);
        ctx.stroke();
      }
      for (let g = Math.floor(oy / cs) * cs; g <= oy + SPAN; g += cs) {
        ctx.beginPath();
        ctx.moveTo(0, (g - oy) * s);
        ctx.lineTo(width, (g - oy) * s);
        ctx.stroke();
      }
    }
    ctx.strokeStyle = '#7a4040';
    ctx.strokeRect(-ox * s, -oy * s, FIELD_SIZE * s, FIELD_SIZE * s);
    for (const e of this.table.values()) {
      const p = this.table.interpolate(e, INTERPOLATE_MS) as { x: number; y: number };
      const mine = e.type === 'Avatar' && e.values.name === myName;
      const x = ((mine ? me.x : p.x) - ox) * s;
      const y = ((mine ? me.y : p.y) - oy) * s;
      if (e.type === 'Critter') {
        ctx.fillStyle = CRITTER_COLORS[e.values.kind % CRITTER_COLORS.length]!;
        ctx.fillRect(x - 4, y - 4, 8, 8);
        continue;
      }
      drawPlayer(ctx, x, y, e.values.color, e.values.name, mine);
    }
    this.#minimap(ctx, me);
  }

  #minimap(ctx: CanvasRenderingContext2D, me: { x: number; y: number }): void {
    const x0 = ctx.canvas.width - MINIMAP - 10;
    const y0 = 10;
    const k = MINIMAP / FIELD_SIZE;
    ctx.fillStyle = 'rgba(0, 0, 0, 0.6)';
    ctx.fillRect(x0, y0, MINIMAP, MINIMAP);
    const cs = this.table.cellSize;
    ctx.fillStyle = 'rgba(120, 200, 120, 0.35)';
    for (const cell of this.table.cells) ctx.fillRect(x0 + cellX(cell) * cs * k, y0 + cellY(cell) * cs * k, Math.max(1, cs * k), Math.max(1, cs * k));
    ctx.fillStyle = '#9ecbff';
    for (const e of this.table.values()) if (e.type === 'Avatar') ctx.fillRect(x0 + e.values.x * k - 1, y0 + e.values.y * k - 1, 2, 2);
    ctx.fillStyle = '#fff';
    ctx.fillRect(x0 + me.x * k - 2, y0 + me.y * k - 2, 4, 4);
    ctx.strokeStyle = '#555';
    ctx.strokeRect(x0, y0, MINIMAP, MINIMAP);
    ctx.fillStyle = '#aaa';
    ctx.fillText(`${this.table.size} entities in view`, x0, y0 + MINIMAP + 14);
  }
}
