/**
 * The demo's chat moderation (docs/chat.md): the gateways run it on every line before it goes
 * out. It masks a few words and drops lines that shout a link; a real game would call its
 * moderation service here (it may be async). Its default export is what `chat.moderate` names in
 * cluster.yaml; the embedded `npm start` passes it to its gateway.
 */
import type { ModerationInput } from '@gos/chat';

/** Masked wherever they appear, whatever their case. */
const MASKED = ['darn', 'heck', 'frak'];
const MASK = new RegExp(`\\b(${MASKED.join('|')})\\b`, 'giu');
/** A line that carries a link is dropped (spam). */
const LINK = /\bhttps?:\/\/|\bwww\./iu;

export default function moderate(line: ModerationInput): string | null {
  if (LINK.test(line.text)) return null;
  return line.text.replace(MASK, (word) => '*'.repeat(word.length));
}
