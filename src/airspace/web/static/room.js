// The live room: who is on stage and listening (from the room's WebSocket), listening to
// the program over HLS, asking to speak, the microphone, and the host's controls.
import { LiveListener } from "./live_audio.js";
import { Microphone } from "./microphone.js";
import { ReconnectingSocket } from "./reconnecting_socket.js";
import { sentence } from "./format.js";

const root = document.querySelector(".room");
const spaceId = root.dataset.spaceId;
const me = root.dataset.me;
const blocked = root.dataset.blocked === "true";
const api = `/api/v1/spaces/${spaceId}/room`;
const headers = {
  "Content-Type": "application/json",
  "X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content,
};
const $ = (selector) => root.querySelector(selector);
const status = $(".room-status");
const stage = $(".stage");
const requests = $(".requests");
const audience = $(".audience");
const listenButton = $(".listen");
const askButton = $(".ask");
const micButton = $(".mic");
const stepDownButton = $(".step-down");
const endButton = $(".end");
const leaveButton = $(".leave");
const MIC_ROLES = new Set(["host", "cohost", "speaker"]);
const RECONNECTING = "Reconnecting…";
const ROLE_NAMES = { host: "Host", cohost: "Co-host", speaker: "Speaker", listener: "Listener" };

let members = new Map();
let recording = root.dataset.recording === "true";
let ended = false;
let socket = null;
const listener = new LiveListener($(".live-audio"), root.dataset.playlist, { onStatus: (text) => { $(".listen-status").textContent = text; } });
// A connection that fails is made again at once; one that is only "disconnected" (no
// packets for a few seconds: a tunnel, a switch from Wi-Fi to mobile data) is given 2 s
// to come back by itself, then made again, so the voice is back within about 5 s.
const RECONNECT_AFTER_DISCONNECTED_MS = 2000;
const microphone = new Microphone(spaceId, headers, {
  onState: (state) => {
    if (state === "failed") reconnectMicrophone();
    if (state === "disconnected") {
      const dropped = microphone.connection;
      setTimeout(() => {
        if (microphone.connection === dropped && dropped?.connectionState === "disconnected") reconnectMicrophone();
      }, RECONNECT_AFTER_DISCONNECTED_MS);
    }
    render();
  },
});
let listening = false;
let micWanted = false; // the speaker turned their microphone on (and has not turned it off)
let micRetry = null;
let joining = false;
let leaving = false;

const say = (text) => { status.textContent = text; };
const mine = () => members.get(me);
const moderator = () => ["host", "cohost"].includes(mine()?.role);

async function call(method, path, body) {
  const reply = await fetch(`${api}${path}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
  let parsed = {};
  try { parsed = JSON.parse(await reply.text() || "{}"); } catch { /* not JSON: a proxy's error page */ }
  if (!reply.ok) throw new Error(typeof parsed.detail === "string" ? sentence(parsed.detail) : `The room answered ${reply.status}.`);
  return parsed;
}

const act = (work) => async () => {
  try { say(""); await work(); } catch (error) { say(error.message); }
  render();
};

function button(label, name, onClick, extra = "") {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.className = `small ${extra}`;
  b.setAttribute("aria-label", name);
  b.addEventListener("click", act(onClick));
  return b;
}

// Cards are kept and updated in place, so that a speaking ring lighting up elsewhere
// never takes the keyboard focus off a moderator's button.
const cards = new Map();

function newCard(username) {
  const item = document.createElement("li");
  item.className = "member";
  item.dataset.username = username;
  const avatar = document.createElement("span");
  avatar.className = "avatar";
  avatar.setAttribute("aria-hidden", "true");
  const picture = document.createElement("img");
  picture.src = `/@${encodeURIComponent(username)}/avatar`;
  picture.alt = "";
  avatar.append(picture);
  const name = document.createElement("span");
  name.className = "name";
  const detail = document.createElement("span");
  detail.className = "role muted";
  const tools = document.createElement("span");
  tools.className = "tools";
  item.append(avatar, name, detail, tools);
  return item;
}

function toolsFor(member) {
  const who = member.display_name;
  const path = `/members/${encodeURIComponent(member.username)}`;
  const outranks = mine()?.role === "host" || member.role === "speaker" || member.role === "listener";
  if (!moderator() || member.username === me || member.role === "host" || !outranks) return [];
  const tools = [];
  if (member.role === "listener") tools.push(button("Approve", `Approve ${who}`, () => call("POST", "/speakers", { username: member.username }), "primary"));
  if (MIC_ROLES.has(member.role) && !member.muted) tools.push(button("Mute", `Mute ${who}`, () => call("POST", `${path}/mute`)));
  if (MIC_ROLES.has(member.role)) tools.push(button("Make listener", `Make ${who} a listener`, () => call("POST", `${path}/listener`)));
  if (mine()?.role === "host" && member.role !== "cohost") tools.push(button("Co-host", `Make ${who} a co-host`, () => call("POST", "/cohosts", { username: member.username })));
  tools.push(button("Remove", `Remove ${who}`, async () => { if (confirm(`Remove ${who} from this Space?`)) await call("DELETE", path); }, "danger"));
  return tools;
}

function card(member) {
  let item = cards.get(member.username);
  if (!item) { item = newCard(member.username); cards.set(member.username, item); }
  const [avatar, name, detail, tools] = item.children;
  const speaking = member.speaking && !member.muted;
  avatar.classList.toggle("speaking", speaking);
  name.textContent = member.display_name;
  const mic = MIC_ROLES.has(member.role) ? (member.muted ? " · muted" : member.connected ? " · mic on" : "") : "";
  const poor = MIC_ROLES.has(member.role) && member.connected && member.link?.poor;
  detail.textContent = ROLE_NAMES[member.role] + mic + (speaking ? " · speaking" : "") + (member.hand_raised ? " · ✋ asked to speak" : "") + (poor ? " · poor connection" : "");
  detail.title = member.link ? `${member.link.loss_percent} % lost · jitter ${member.link.jitter_ms} ms` + (member.link.rtt_ms !== null ? ` · round trip ${member.link.rtt_ms} ms` : "") : "";
  item.classList.toggle("poor-link", Boolean(poor));
  // The buttons change with roles, not with speaking: rebuilt only when they differ.
  const toolsKey = [member.role, member.muted, mine()?.role].join("|");
  if (tools.dataset.key !== toolsKey) { tools.dataset.key = toolsKey; tools.replaceChildren(...toolsFor(member)); }
  return item;
}

// Moves nodes only when the order changed (moving a focused node would blur it).
function place(list, items) {
  const current = [...list.children];
  if (current.length === items.length && current.every((node, i) => node === items[i])) return;
  list.replaceChildren(...items);
}

// Who is speaking, for screen readers: said when it changes, at most every 3 seconds.
let speakingSaid = "";
let speakingTimer = null;
function announceSpeaking(onStage) {
  const names = onStage.filter((m) => m.speaking && !m.muted).map((m) => m.display_name);
  const text = names.length ? `Speaking: ${names.join(", ")}` : "";
  if (text === speakingSaid || speakingTimer) return;
  speakingSaid = text;
  $(".speaking-now").textContent = text;
  speakingTimer = setTimeout(() => { speakingTimer = null; render(); }, 3000);
}

function render() {
  const all = [...members.values()];
  const onStage = all.filter((m) => MIC_ROLES.has(m.role));
  const asking = all.filter((m) => m.role === "listener" && m.hand_raised);
  const others = all.filter((m) => m.role === "listener" && !m.hand_raised);
  for (const username of cards.keys()) if (!members.has(username)) cards.delete(username);
  place(stage, onStage.map(card));
  announceSpeaking(onStage);
  place(requests, asking.map(card));
  place(audience, others.map(card));
  $(".requests-section").hidden = !moderator() || asking.length === 0;
  $(".rec").hidden = !recording;
  const self = mine();
  const speaker = self && MIC_ROLES.has(self.role);
  askButton.hidden = ended || !self || speaker || blocked;
  askButton.disabled = Boolean(self?.hand_raised);
  askButton.textContent = self?.hand_raised ? "Asked to speak" : "Ask to speak";
  micButton.hidden = ended || !speaker;
  micButton.textContent = !microphone.connected ? "Turn on microphone" : self?.muted ? "Unmute" : "Mute";
  micButton.setAttribute("aria-pressed", String(microphone.connected && !self?.muted));
  stepDownButton.hidden = ended || !speaker || self.role === "host";
  endButton.hidden = ended || self?.role !== "host";
  leaveButton.hidden = ended || !self || self.role === "host";
  listenButton.hidden = ended || microphone.connected;
  listenButton.textContent = listening ? "Stop listening" : "Listen";
  listenButton.setAttribute("aria-pressed", String(listening));
}

function apply(event) {
  if ("recording" in event) recording = event.recording;
  if (event.type === "state") {
    members = new Map(event.members.map((m) => [m.username, m]));
    showCount(event);
    // After a reconnect: what changed about me while the socket was down.
    if (me && !members.has(me)) rejoin();
    else if (me) followMyRole({ type: "state", member: members.get(me) });
    // The room moved to another server: my microphone follows it there.
    if (micWanted && MIC_ROLES.has(mine()?.role) && !mine()?.connected) reconnectMicrophone();
  } else if (event.type === "moving" || event.type === "moved") {
    say("The room is moving to another server; reconnecting…");
  } else if (event.type === "left" || event.type === "removed") {
    members.delete(event.member.username);
    refreshCount();
    if (event.type === "removed" && event.member.username === me) leaveRoom("You were removed from this Space.");
    else if (event.type === "left" && event.member.username === me && !leaving) rejoin();
  } else if (event.type === "idle_warning") {
    say(`Nobody has spoken for a while: this Space ends in ${event.ends_in_seconds} s unless someone talks or turns on a microphone.`);
  } else if (event.type === "ended") {
    leaveRoom("This Space has ended."); // the page turns into the replay by itself
  } else if (event.member) {
    // Someone joined, or moved between stage and audience: the count changes now.
    if (members.get(event.member.username)?.role !== event.member.role) refreshCount();
    members.set(event.member.username, event.member);
    if (event.member.username === me) followMyRole(event);
  }
  render();
}

// A microphone connection that failed, or a room that moved, is connected again (to
// whichever server holds the room now), a few times with growing pauses.
async function reconnectMicrophone(attempt = 0) {
  if (ended || micRetry || !micWanted || microphone.pending) return;
  microphone.close();
  say("Reconnecting your microphone…");
  try {
    await microphone.connect();
    microphone.setEnabled(!mine()?.muted);
    say("Your microphone is back on.");
  } catch (error) {
    if (attempt >= 5) { say(`The microphone could not reconnect: ${error.message} Turn it on again.`); micWanted = false; return; }
    micRetry = setTimeout(() => { micRetry = null; reconnectMicrophone(attempt + 1); }, 1000 * 2 ** attempt);
  }
  render();
}

// What the room did to me: a microphone given or taken back, a mute from a moderator.
function followMyRole(event) {
  const self = event.member;
  if (!MIC_ROLES.has(self.role) && microphone.connected) {
    micWanted = false;
    microphone.close();
    say("You are a listener again.");
  } else if (event.type === "approved" || event.type === "cohost_added") {
    say(event.type === "approved" ? "You can speak now: turn on your microphone." : "You are a co-host now.");
  }
  microphone.setEnabled(!self.muted);
}

function leaveRoom(message) {
  ended = true;
  micWanted = false;
  say(message);
  microphone.close();
  if (listening) listener.stop();
  listening = false;
  socket?.close();
}

// "Listening": those playing the live stream; "in the room": everyone with the page open
// or the stream playing, speakers included.
function showCount(state) {
  const speakers = [...members.values()].filter((m) => MIC_ROLES.has(m.role)).length;
  const text = `${state.listening_count ?? 0} listening · ${state.listener_count + speakers} in the room`;
  if ($(".listener-count").textContent !== text) $(".listener-count").textContent = text;
}

// Back into the room after being dropped (a lost microphone connection, a closed page
// the room gave up on): as whatever the room now makes of me.
async function rejoin() {
  if (ended || joining) return;
  joining = true;
  try {
    const state = await call("POST", "/join");
    apply(state);
  } catch (error) {
    say(error.message);
    if (/removed/.test(error.message)) leaveRoom(error.message);
  } finally {
    joining = false;
  }
}

function connect() {
  socket = new ReconnectingSocket(`${api}/events`, {
    onMessage: apply,
    onOpen: () => { if (status.textContent === RECONNECTING) say(""); },
    onDown: () => { if (!ended) say(RECONNECTING); },
    // 1008: the room refused this page (not live any more, or for ticket holders only).
    shouldRetry: (closed) => {
      if (closed.code === 1008) { say(closed.reason || "The room closed the connection."); return false; }
      return !ended;
    },
  });
}

listenButton.addEventListener("click", act(async () => {
  if (listening) { listener.stop(); listening = false; return; }
  listening = true;
  render();
  await listener.start();
}));
askButton.addEventListener("click", act(() => call("POST", "/requests")));
micButton.addEventListener("click", act(async () => {
  if (!microphone.connected) {
    if (listening) { listener.stop(); listening = false; } // the return mix carries everyone else
    micWanted = true;
    await microphone.connect();
    microphone.setEnabled(!mine()?.muted);
    return;
  }
  const path = `/members/${encodeURIComponent(me)}/${mine()?.muted ? "unmute" : "mute"}`;
  const event = await call("POST", path);
  members.set(me, event.member);
  microphone.setEnabled(!event.member.muted);
}));
stepDownButton.addEventListener("click", act(() => { micWanted = false; return call("POST", `/members/${encodeURIComponent(me)}/listener`); }));
endButton.addEventListener("click", act(async () => {
  if (!confirm("End this Space for everyone?")) return;
  await fetch(`/api/v1/spaces/${spaceId}/end`, { method: "POST", headers });
}));

// The listener count moves with every playlist fetch, not with room events: refresh it.
async function refreshCount() {
  if (ended) return;
  const reply = await fetch(api);
  if (reply.ok) showCount(await reply.json());
}
setInterval(refreshCount, 5000);
leaveButton.addEventListener("click", act(async () => {
  leaving = true;
  micWanted = false;
  microphone.close();
  await call("POST", "/leave");
  location.href = "/";
}));

async function enter() {
  if (me) {
    try { await call("POST", "/join"); } catch (error) { say(error.message); if (/removed/.test(error.message)) { ended = true; render(); return; } }
  }
  connect();
  render();
}
enter();
