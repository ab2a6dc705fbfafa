/**
 * The demo's browser client: log in, then walk with the arrow keys or WASD (or click to walk
 * there). Uses the client SDK and the generated protocol, like any game client would.
 */
import { ChatClient, GameClient, guest, login, register } from '@gos/client';
import { createApi, protocol, type PlayerState } from '../src/generated/protocol.js';
import { PORTALS } from '../src/portals.js';
import { FIELD_SIZE } from '../src/field-map.js';
import { FieldView, drawPlayer } from './field-view.js';

const WORLD = 1000;
const SPEED = 250; // world units per second
const SEND_MS = 100;

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const canvas = $<HTMLCanvasElement>('world');
const ctx = canvas.getContext('2d')!;
const status = (text: string): void => {
  $('status').textContent = text;
};

interface Shown extends PlayerState {
  tx: number;
  ty: number;
}

const players = new Map<string, Shown>();
const keys = new Set<string>();
let me: { id: string; x: number; y: number } | null = null;
let target: { x: number; y: number } | null = null;
let client: GameClient<typeof protocol> | null = null;
/** The gateway's chat (docs/chat.md): plain lines go to the scene's channel, `/all` to the world. */
let chat: ChatClient | null = null;
let mover: ReturnType<typeof setInterval> | undefined;
let seq = 0;
/** The message of the day last shown (shown again only when it changes). */
let lastMotd = '';
/** The map we are in (Welcome says; a portal changes it). */
let sceneId = '';
let myName = '';
/** The large map's entities (docs/aoi.md), fed from the moment we connect. */
let field: FieldView | null = null;
const inField = (): boolean => sceneId.startsWith('field:');
/** Side of the map we are on. */
const mapSize = (): number => (inField() ? FIELD_SIZE : WORLD);

function upsert(p: PlayerState): void {
  const shown = players.get(p.id);
  if (shown === undefined) players.set(p.id, { ...p, tx: p.x, ty: p.y });
  else Object.assign(shown, { name: p.name, color: p.color, tx: p.x, ty: p.y });
}

async function start(auth: { token: string; gateway: string; gateways?: readonly string[]; username?: string }): Promise<void> {
  clearInterval(mover);
  await client?.close();
  players.clear();
  me = null;
  // The other gateways of the cluster: where the client goes if its own is lost.
  const c = new GameClient({ url: auth.gateway, fallbackUrls: (auth.gateways ?? []).slice(1), token: auth.token, protocol });
  client = c;
  chat?.close();
  chat = new ChatClient(c);
  chat.onLine((line) => chatLine(chatText(line)));
  // The last lines of the world and of the map, once the connection is up (each connection: a resume missed some).
  c.on('open', () => {
    for (const channel of ['world', 'scene'] as const) {
      chat
        ?.history(channel, { limit: 5 })
        .then((lines) => lines.forEach((line) => chatLine(chatText(line))))
        .catch(() => undefined);
    }
  });
  field = new FieldView(c);
  // The first push of every connection: who we are, where, and that seqs count from 0 again.
  c.onPush('Welcome', (w) => {
    me = { id: w.playerId, x: w.x, y: w.y };
    seq = 0;
    sceneId = w.sceneId;
    myName = w.name;
    status(`playing as ${w.name} in ${w.sceneId} — arrow keys / WASD / click to move; ${inField() ? '/world goes back' : '/field goes to the large map'}`);
    // From the config data (config/demo.xlsx), when the server has some.
    if (w.motd !== '' && w.motd !== lastMotd) chatLine(w.motd);
    lastMotd = w.motd;
    if (w.zone !== '') chatLine(w.zone);
  });
  c.onPush('WorldSnapshot', (snap) => {
    for (const p of snap.players) {
      upsert(p);
      // Our own entry, once the server has processed our latest move: its position is the truth.
      if (me !== null && p.id === me.id && p.ack === seq) {
        me.x = p.x;
        me.y = p.y;
      }
    }
  });
  c.onPush('PlayerLeft', ({ id }) => players.delete(id));
  // Through a portal: the other map's players come with its Welcome and snapshot.
  c.onPush('SceneChanged', ({ to }) => {
    players.clear();
    target = null;
    sceneId = to;
    // Until the new map's Welcome: no move with the old map's position.
    me = null;
    // The new map's last lines.
    chat
      ?.history('scene', { limit: 5 })
      .then((lines) => lines.forEach((line) => chatLine(chatText(line))))
      .catch(() => undefined);
  });
  c.onPush('ChatLine', ({ from, text }) => chatLine(`${from}: ${text}`));
  c.onPush('MailArrived', ({ from, subject, attachments }) => chatLine(`new mail from ${from}: ${subject}${attachments ? ' (with coins)' : ''}; /mail reads it`));
  c.onPush('GuildLine', ({ guild, from, text }) => chatLine(`[${guild}] ${from}: ${text}`));
  // A private line from a player anywhere in the cluster: `/r text` answers it.
  c.onPush('Whisper', ({ fromId, from, text }) => {
    lastWhisperer = fromId;
    chatLine(`${from} (id ${fromId}) whispers: ${text}`);
  });
  c.on('close', (e) => status(e.willReconnect ? `connection lost (${e.code}), reconnecting…` : `disconnected (${e.code} ${e.reason})`));
  // Moves go without replies (snapshots acknowledge them): a refusal comes as an error event.
  c.on('error', (err) => status(`error: ${err.message}`));
  await c.connect();
  for (const id of ['world', 'chatform', 'chat']) $(id).classList.remove('hidden');
  $('auth').classList.add('hidden');

  let last = performance.now();
  mover = setInterval(() => {
    if (me === null) return;
    const now = performance.now();
    const dt = (now - last) / 1000;
    last = now;
    let dx = 0;
    let dy = 0;
    if (keys.has('ArrowLeft') || keys.has('a')) dx -= 1;
    if (keys.has('ArrowRight') || keys.has('d')) dx += 1;
    if (keys.has('ArrowUp') || keys.has('w')) dy -= 1;
    if (keys.has('ArrowDown') || keys.has('s')) dy += 1;
    // Keys give a direction; a click target also gives the distance left to walk.
    let maxStep = Infinity;
    if (dx === 0 && dy === 0 && target !== null) {
      dx = target.x - me.x;
      dy = target.y - me.y;
      maxStep = Math.hypot(dx, dy);
      if (maxStep < 4) target = null;
    }
    const len = Math.hypot(dx, dy);
    if (len === 0) return;
    const step = Math.min(maxStep, SPEED * dt);
    const x = Math.min(mapSize(), Math.max(0, me.x + (dx / len) * step));
    const y = Math.min(mapSize(), Math.max(0, me.y + (dy / len) * step));
    me.x = x;
    me.y = y;
    // On the large map our Avatar entity shows where the server put us; elsewhere snapshots do.
    if (inField()) c.send(protocol.routes.walk, { x, y });
    else c.send(protocol.routes.move, { seq: ++seq, x, y });
  }, SEND_MS);
}

function draw(): void {
  if (inField() && field !== null && me !== null) {
    // Far from where the server has us while standing still (a refused step, a reconnect): take its word.
    const own = field.own(myName);
    const still = keys.size === 0 && target === null;
    if (own !== null && Math.hypot(own.x - me.x, own.y - me.y) > (still ? 20 : 400)) Object.assign(me, own);
    field.draw(ctx, me, myName);
    requestAnimationFrame(draw);
    return;
  }
  const s = canvas.width / WORLD;
  ctx.fillStyle = '#1c2a1c';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.strokeStyle = '#253825';
  for (let g = 0; g <= WORLD; g += 100) {
    ctx.beginPath();
    ctx.moveTo(g * s, 0);
    ctx.lineTo(g * s, canvas.height);
    ctx.moveTo(0, g * s);
    ctx.lineTo(canvas.width, g * s);
    ctx.stroke();
  }
  for (const portal of PORTALS) {
    if (portal.sceneId !== sceneId) continue;
    ctx.strokeStyle = '#7fd4ff';
    ctx.beginPath();
    ctx.arc(portal.x * s, portal.y * s, portal.radius * s, 0, Math.PI * 2);
    ctx.stroke();
    ctx.fillStyle = '#7fd4ff';
    ctx.fillText(`→ ${portal.to}`, portal.x * s - 60, portal.y * s - portal.radius * s - 6);
  }
  for (const p of players.values()) {
    const mine = me !== null && p.id === me.id;
    // Others glide towards their last known position; our own dot follows our prediction.
    p.x += (p.tx - p.x) * 0.25;
    p.y += (p.ty - p.y) * 0.25;
    const x = (mine ? me!.x : p.x) * s;
    const y = (mine ? me!.y : p.y) * s;
    drawPlayer(ctx, x, y, p.color, p.name, mine);
  }
  requestAnimationFrame(draw);
}

const base = location.origin;
const creds = (): [string, string] => [$<HTMLInputElement>('username').value.trim(), $<HTMLInputElement>('password').value];
const fail = (err: unknown): void => status(`${(err as { code?: string }).code ?? 'error'}: ${(err as Error).message}`);

$('register').addEventListener('click', () => {
  const [u, p] = creds();
  register(base, u, p)
    .then(() => login(base, u, p))
    .then(start)
    .catch(fail);
});
$('auth').addEventListener('submit', (e) => {
  e.preventDefault();
  const [u, p] = creds();
  login(base, u, p).then(start).catch(fail);
});
$('guest').addEventListener('click', () => {
  guest(base).then(start).catch(fail);
});
/** A chat line as shown: its channel, who said it, what. */
function chatText(line: { channel: string; name: string; text: string }): string {
  const where = line.channel === 'world' ? 'all' : line.channel.startsWith('p:') ? 'private' : line.channel.startsWith('group:') ? 'group' : 'here';
  return `[${where}] ${line.name}: ${line.text}`;
}

function chatLine(text: string): void {
  const line = document.createElement('div');
  line.textContent = text;
  $('chat').append(line);
  $('chat').scrollTop = 1e9;
}

/** Who whispered last (`/r` answers them). */
let lastWhisperer: string | null = null;

/** `/w <name or id> text` whispers to a player (by name when one of that name is on this map), `/r text` answers the last whisper. */
function whisper(to: string, text: string): void {
  if (client === null) return;
  const id = [...players].find(([, p]) => p.name === to)?.[0] ?? to;
  createApi(client)
    .whisper({ to: id, text })
    .then(({ delivered }) => chatLine(delivered ? `to ${to}: ${text}` : `${to} is offline`))
    .catch(fail);
}

$('chatform').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = $<HTMLInputElement>('say');
  const value = input.value.trim();
  input.value = '';
  if (client === null || value === '') return;
  const w = /^\/w\s+(\S+)\s+(.+)$/.exec(value);
  const r = /^\/r\s+(.+)$/.exec(value);
  const join = /^\/guild\s+(\S+)$/.exec(value);
  const g = /^\/g\s+(.+)$/.exec(value);
  const rally = /^\/rally\s+(\d+)$/.exec(value);
  if (value === '/field' || value === '/world') {
    const api = createApi(client);
    const going = value === '/field' ? api.travel({ sceneId: 'field:1', x: 500 + Math.random() * 3000, y: 500 + Math.random() * 3000 }) : api.leaveField({ sceneId: 'world:1', x: 500, y: 500 });
    going.then(({ to }) => chatLine(`to ${to}…`)).catch(fail);
    return;
  }
  if (value === '/top' || value === '/near') {
    createApi(client)
      .leaderboard({ around: value === '/near' })
      .then(({ entries, total, myRank, myScore }) => {
        if (entries.length === 0) return chatLine('nobody has walked today yet');
        chatLine(`metres walked today (${total} walkers): ${entries.map((e) => `${e.rank}. ${e.name} ${Math.round(e.score)}`).join(' · ')}`);
        chatLine(myRank === 0 ? 'you have not walked today' : `you: #${myRank} with ${Math.round(myScore)} m`);
      })
      .catch(fail);
    return;
  }
  const claim = /^\/claim\s+(\d+)$/.exec(value);
  const delmail = /^\/delmail\s+(\d+)$/.exec(value);
  if (value === '/mail') {
    createApi(client)
      .mailList({ before: 0 })
      .then(({ mails, coins }) => {
        if (mails.length === 0) return chatLine(`no mail; you have ${coins} coins`);
        for (const m of mails) chatLine(`#${m.mailId} from ${m.from}: ${m.subject}: ${m.body}${m.coins > 0 ? (m.claimed ? ` (${m.coins} coins claimed)` : ` (${m.coins} coins: /claim ${m.mailId})`) : ''}`);
        chatLine(`you have ${coins} coins; /delmail id deletes a mail`);
      })
      .catch(fail);
    return;
  }
  if (claim !== null || delmail !== null) {
    const api = createApi(client);
    const done = claim !== null ? api.mailClaim({ mailId: Number(claim[1]) }).then(({ coins }) => `claimed: you have ${coins} coins`) : api.mailDelete({ mailId: Number(delmail![1]) }).then(({ deleted }) => (deleted ? 'deleted' : 'no such mail'));
    done.then(chatLine).catch(fail);
    return;
  }
  if (value === '/guilds') {
    createApi(client)
      .guildList({ guild: '' })
      .then(({ guilds }) => chatLine(guilds.length === 0 ? 'no guild yet (/guild name founds one)' : `guilds: ${guilds.map((g) => `${g.guild} (${g.members})`).join(', ')}`))
      .catch(fail);
    return;
  }
  const api = createApi(client);
  if (join !== null) {
    api
      .guildJoin({ guild: join[1]! })
      .then(({ guild, members }) => chatLine(`you are in guild ${guild} (${members} members); /g text speaks to it`))
      .catch(fail);
  } else if (g !== null) api.guildSay({ text: g[1]! }).catch(fail);
  else if (rally !== null) {
    api
      .guildRally({ delayMs: Number(rally[1]) * 1000 })
      .then(({ dueAt }) => chatLine(`rally called for ${new Date(dueAt).toLocaleTimeString()}`))
      .catch(fail);
  }
  else if (w !== null) whisper(w[1]!, w[2]!);
  else if (r !== null && lastWhisperer !== null) whisper(lastWhisperer, r[1]!);
  else if (value.startsWith('/all ')) chat?.say('world', value.slice(5)).catch(fail);
  else chat?.say('scene', value).catch(fail);
});
canvas.addEventListener('click', (e) => {
  const r = canvas.getBoundingClientRect();
  const px = ((e.clientX - r.left) / r.width) * canvas.width;
  const py = ((e.clientY - r.top) / r.height) * canvas.height;
  target = inField() && field !== null && me !== null ? field.toWorld(me, canvas, px, py) : { x: (px / canvas.width) * WORLD, y: (py / canvas.height) * WORLD };
});
addEventListener('keydown', (e) => {
  if (document.activeElement?.tagName === 'INPUT') return;
  keys.add(e.key.length === 1 ? e.key.toLowerCase() : e.key);
  if (e.key.startsWith('Arrow')) e.preventDefault();
});
addEventListener('keyup', (e) => keys.delete(e.key.length === 1 ? e.key.toLowerCase() : e.key));
requestAnimationFrame(draw);

/** Read-only view of the client's state, for the end-to-end browser test and for curious players. */
(globalThis as unknown as { gosDemo: unknown }).gosDemo = {
  me: () => (me === null ? null : { ...me }),
  sceneId: () => sceneId,
  /** Positions as last reported by the server (snapshots), by player id. */
  seen: () => Object.fromEntries([...players.values()].map((p) => [p.id, { x: p.tx, y: p.ty }])),
  /** On the large map: the entities in view, by id. */
  entities: () => (field === null ? {} : Object.fromEntries([...field.table.values()].map((e) => [e.id, { type: e.type, ...e.values }]))),
};
