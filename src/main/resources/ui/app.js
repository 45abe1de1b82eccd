// Tern's dashboard: polls the node that served this page once a second and renders what it answers.
// No framework and no build step; every value from the node is written with textContent, never as HTML.
'use strict';

const POLL_MS = 1000;
const FETCH_TIMEOUT_MS = 3000;
const TIMELINE_MAX = 40;

const state = {
  self: null,          // this node's id, once known
  lostSince: null,     // when the page last lost the node serving it (null: it answers)
  lastError: null,
  reachable: {},       // member id -> last known reachability, to notice changes
  pageEvents: [],      // what the page itself noticed: members lost and found again
  nodeEvents: [],      // the node's own record of elections and leaders (/ui/api/events)
  scrape: null,        // the previous /metrics sums and when they were taken
  lastCluster: null,
};

const $ = (id) => document.getElementById(id);

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

// With tern.security on, every call but the page itself needs a token: the page asks for one on the first 401 and
// keeps it for this tab only (sessionStorage), sending it as "Authorization: Bearer ...".
const TOKEN_KEY = 'ternToken';
let askingForToken = false;

function askForToken() {
  if (askingForToken) return;
  askingForToken = true;
  const t = window.prompt('This node needs a token (tern.security): paste a read token to look, or a write token to change keys too.');
  if (t && t.trim()) sessionStorage.setItem(TOKEN_KEY, t.trim());
  askingForToken = false;
}

async function request(path, options) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), FETCH_TIMEOUT_MS);
  const opts = Object.assign({ cache: 'no-store', signal: controller.signal }, options || {});
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) opts.headers = Object.assign({}, opts.headers || {}, { Authorization: 'Bearer ' + token });
  try {
    const response = await fetch(path, opts);
    if (response.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      setTimeout(askForToken, 0);
    }
    return response;
  } catch (e) {
    throw new Error(e.name === 'AbortError' ? 'no answer within ' + FETCH_TIMEOUT_MS + ' ms' : 'no connection (' + e.message + ')');
  } finally {
    clearTimeout(timer);
  }
}

async function json(path, options) {
  const response = await request(path, options);
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  return { status: response.status, ok: response.ok, body };
}

function time(ms) {
  return new Date(ms).toLocaleTimeString();
}

function errorText(r) {
  return 'HTTP ' + r.status + (r.body && r.body.error ? ': ' + r.body.error : '') +
    (r.body && r.body.reason ? ' (' + r.body.reason + ')' : '');
}

// ------------------------------------------------------------------------------------------ polling

async function poll() {
  try {
    const status = await json('/v1/status');
    if (!status.body || typeof status.body.term !== 'number') throw new Error(errorText(status));
    if (state.lostSince !== null) {
      note(state.self + ' (this page\'s node) answers again');
    }
    state.lostSince = null;
    const [cluster, events, metrics] = await Promise.allSettled([
      json('/ui/api/cluster'), json('/ui/api/events'), request('/metrics').then((r) => r.ok ? r.text() : null)]);
    render(status.body,
      cluster.status === 'fulfilled' && cluster.value.ok ? cluster.value.body : null,
      events.status === 'fulfilled' && events.value.ok ? events.value.body : null,
      metrics.status === 'fulfilled' ? metrics.value : null);
  } catch (e) {
    lost(e.message);
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

function note(text) {
  state.pageEvents.push({ at: Date.now(), text, cls: 'page' });
  if (state.pageEvents.length > TIMELINE_MAX) state.pageEvents.shift();
}

/** The node serving the page does not answer: say so, keep the last picture (dimmed), and go on trying. */
function lost(reason) {
  if (state.lostSince === null) {
    state.lostSince = Date.now();
    note((state.self || 'this page\'s node') + ' stopped answering: ' + reason);
  }
  state.lastError = reason;
  document.body.dataset.connection = 'lost';
  const who = state.self ? 'node ' + state.self : 'the node serving this page';
  showBanner('error', 'Lost contact with ' + who + ' (this page\'s node) since ' + time(state.lostSince) + ': ' + reason +
    '. Retrying every second; what is shown below is the last picture it gave.');
  if (state.self) {
    const row = document.querySelector('#members tr[data-member="' + CSS.escape(state.self) + '"]');
    if (row) markUnreachable(row, reason);
  }
  renderTimeline();
}

function showBanner(level, text) {
  const b = $('banner');
  b.className = 'banner ' + level;
  b.textContent = text;
  b.hidden = false;
}

// ------------------------------------------------------------------------------------------ rendering

function render(status, cluster, events, metricsText) {
  state.self = status.id;
  document.body.dataset.connection = 'ok';
  $('served-by').textContent = 'served by ' + status.id + (status.clusterId ? ' · cluster ' + status.clusterId : '');
  $('updated').textContent = 'updated ' + time(Date.now());

  $('leader').textContent = status.leader || 'none known';
  $('leader').dataset.leader = status.leader || '';
  $('term').textContent = status.term;
  $('commit').textContent = status.commitIndex;
  $('applied').textContent = status.lastApplied;
  $('snapshot').textContent = status.snapshotIndex > 0 ? 'index ' + status.snapshotIndex : 'none yet';
  renderData(status.storage);
  if (events) state.nodeEvents = events.events || [];
  renderMembers(status, cluster);
  renderMetrics(metricsText);
  renderTimeline();

  const problems = [];
  if (!status.serving) {
    problems.push(status.id + ' is not serving: ' + (status.commitStall || status.quorumLost ||
      (status.leader ? 'unknown reason' : 'no leader known in term ' + status.term)));
  }
  if (!cluster) problems.push('could not fetch the other members\' status through ' + status.id);
  if (status.storage && status.storage.readOnly) problems.push(status.id + '\'s disk is below its free-space reserve: read-only');
  if (status.storage && status.storage.failure) problems.push(status.id + '\'s storage failed: ' + status.storage.failure);
  if (status.storage && status.storage.alarm === 'NOSPACE') {
    problems.push(status.id + ' is over its space quota (NOSPACE): ' + bytes(status.storage.dataBytes) + ' of ' +
      bytes(status.storage.quotaBytes) + ' (tern.storage.quota-bytes); writes that add data get 507 until keys are' +
      ' deleted or leases revoked');
  }
  for (const m of (cluster ? cluster.members : [])) {
    if (!m.reachable) problems.push(m.id + ' is unreachable from ' + status.id + ': ' + m.error);
    else if (!m.status) problems.push(m.id + ' ' + m.error);
  }
  if (problems.length) showBanner('warning', problems.join(' · '));
  else $('banner').hidden = true;
}

/** The keys and values this node holds against its space quota (the storage part of /v1/status). */
function renderData(storage) {
  if (!storage || storage.dataBytes === undefined) {
    $('data').textContent = '—';
    $('data-quota').textContent = '';
    return;
  }
  $('data').textContent = bytes(storage.dataBytes);
  const quota = storage.quotaBytes > 0
    ? Math.floor(100 * storage.dataBytes / storage.quotaBytes) + '% of the quota, ' + bytes(storage.quotaBytes)
    : 'no space quota';
  $('data-quota').textContent = storage.alarm ? storage.alarm + ': writes refused · ' + quota : quota;
  $('data-card').classList.toggle('alarm', !!storage.alarm);
}

function bytes(n) {
  if (n === undefined || n === null || n < 0) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? String(n) : n.toFixed(n < 10 ? 1 : 0)) + ' ' + units[i];
}

function markUnreachable(row, reason) {
  row.dataset.reachable = 'false';
  row.classList.add('unreachable');
  row.cells[3].textContent = 'unreachable';
  row.cells[3].title = reason;
}

function renderMembers(status, cluster) {
  const body = document.querySelector('#members tbody');
  const voting = {};
  for (const s of ((status.configuration && status.configuration.members) || [])) voting[s.id] = s.role;
  // Every member as this node's configuration lists it, with its own status when this node could fetch it.
  const rows = cluster ? cluster.members : (status.members || []).map((m) => ({ id: m.id, address: 'http://' + m.host + ':' + m.httpPort }));
  // The leader's view of its followers: the member that says it leads, in the highest term seen.
  let leaderStatus = null;
  for (const m of rows) {
    const s = m.status;
    if (s && s.role === 'LEADER' && (!leaderStatus || s.term > leaderStatus.term)) leaderStatus = s;
  }
  const progress = {};
  if (leaderStatus) for (const f of leaderStatus.followers || []) progress[f.id] = f;

  body.replaceChildren();
  for (const m of rows) {
    const s = m.status;
    const tr = document.createElement('tr');
    tr.dataset.member = m.id;
    const known = cluster !== null;
    // Reachable: it answered with its status. One that answers an error instead is shown with that error.
    const reachable = known && m.reachable && !!s;
    tr.dataset.reachable = known ? String(reachable) : 'unknown';
    tr.dataset.role = s ? s.role : '';
    if (known) trackReachability(m, reachable);
    if (known && !reachable) tr.classList.add('unreachable');
    if (s && s.role === 'LEADER') tr.classList.add('leader');
    if (m.id === status.id) tr.classList.add('self');
    const p = progress[m.id];
    const isLeader = leaderStatus && leaderStatus.id === m.id;
    const cells = [
      m.id + (m.id === status.id ? ' (this node)' : ''),
      m.address || '',
      voting[m.id] || '—',
      !known ? 'unknown' : reachable ? 'up' : m.reachable ? 'error' : 'unreachable',
      s ? String(s.role || '?').toLowerCase() : '—',
      s ? s.term : '—',
      s ? s.commitIndex : '—',
      s ? s.lastApplied : '—',
      s ? (s.snapshotIndex || '—') : '—',
      isLeader ? 'leader' : p ? p.matchIndex : '—',
      isLeader ? '0' : p ? p.behind + (p.sendingSnapshot ? ' (sending snapshot)' : '') : '—',
      isLeader ? '—' : p ? ago(p.lastAnsweredMsAgo) : '—',
    ];
    cells.forEach((c, i) => {
      const td = el('td', c);
      if (i === 3 && known && !reachable) td.title = m.error || '';
      if (i === 10 && p && p.behind > 0) td.className = 'lagging';
      tr.appendChild(td);
    });
    body.appendChild(tr);
  }
}

function trackReachability(m, reachable) {
  const before = state.reachable[m.id];
  if (before === true && !reachable) note(m.id + ' became unreachable: ' + (m.error || 'no status'));
  if (before === false && reachable) note(m.id + ' is reachable again');
  state.reachable[m.id] = reachable;
}

function ago(ms) {
  if (ms === undefined || ms === null || ms < 0) return '—';
  return ms < 1000 ? ms + ' ms ago' : (ms / 1000).toFixed(1) + ' s ago';
}

// ------------------------------------------------------------------------------------------ metrics

/** Sums of the samples of each series name, over their labels; histogram buckets summed by their "le". */
function parseMetrics(text) {
  const sums = {};
  const buckets = {};
  for (const line of text.split('\n')) {
    if (!line || line[0] === '#') continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const value = Number(m[4]);
    if (!Number.isFinite(value)) continue;
    sums[m[1]] = (sums[m[1]] || 0) + value;
    if (m[1].endsWith('_bucket')) {
      const le = /le="([^"]*)"/.exec(m[3] || '');
      if (le) {
        const b = buckets[m[1]] || (buckets[m[1]] = {});
        b[le[1]] = (b[le[1]] || 0) + value;
      }
    }
  }
  return { sums, buckets };
}

/** The upper bound (seconds) of the bucket holding quantile q of what was recorded between two scrapes. */
function quantileBound(before, after, q) {
  if (!before || !after) return null;
  const bounds = Object.keys(after).sort((a, b) => Number(a) - Number(b));
  const total = (after['+Inf'] || 0) - (before['+Inf'] || 0);
  if (total <= 0) return null;
  for (const le of bounds) {
    if ((after[le] || 0) - (before[le] || 0) >= q * total) return Number(le);
  }
  return Infinity;
}

function renderMetrics(text) {
  if (text === null) {
    $('writes').textContent = 'n/a';
    $('reads').textContent = 'n/a';
    $('write-latency').textContent = 'metrics are off (tern.metrics.enabled)';
    $('read-latency').textContent = '';
    $('snapshot-counts').textContent = '';
    return;
  }
  const now = performance.now();
  const scrape = parseMetrics(text);
  const s = scrape.sums;
  $('snapshot-counts').textContent = (s.tern_raft_snapshots_taken_total || 0) + ' taken, ' +
    (s.tern_raft_snapshots_installed_total || 0) + ' installed';
  const prev = state.scrape;
  state.scrape = { at: now, sums: s, buckets: scrape.buckets };
  if (!prev) return;
  const seconds = (now - prev.at) / 1000;
  if (seconds <= 0) return;
  showRate('writes', 'write-latency', prev, state.scrape, seconds, 'tern_kv_proposals_total', 'tern_kv_proposal_duration_seconds');
  showRate('reads', 'read-latency', prev, state.scrape, seconds, 'tern_kv_reads_total', 'tern_kv_read_duration_seconds');
}

function showRate(valueId, latencyId, prev, now, seconds, counter, histogram) {
  const delta = (name) => (now.sums[name] || 0) - (prev.sums[name] || 0);
  $(valueId).textContent = (delta(counter) / seconds).toFixed(1) + ' /s';
  const count = delta(histogram + '_count');
  if (count <= 0) {
    $(latencyId).textContent = 'no requests in the last second';
    return;
  }
  const mean = delta(histogram + '_sum') / count * 1000;
  const p99 = quantileBound(prev.buckets[histogram + '_bucket'], now.buckets[histogram + '_bucket'], 0.99);
  $(latencyId).textContent = 'mean ' + mean.toFixed(1) + ' ms' +
    (p99 === null ? '' : p99 === Infinity ? ', p99 above the largest bucket' : ', p99 ≤ ' + (p99 * 1000).toFixed(0) + ' ms');
}

// ------------------------------------------------------------------------------------------ timeline

function renderTimeline() {
  const items = [];
  for (const e of state.nodeEvents) {
    const text = e.kind === 'election'
      ? (state.self || 'this node') + ' started an election for term ' + e.term
      : e.leader + ' leads term ' + e.term;
    items.push({ at: e.at, text, cls: e.kind });
  }
  for (const e of state.pageEvents) items.push(e);
  items.sort((a, b) => b.at - a.at);
  const list = $('timeline');
  list.replaceChildren();
  if (!items.length) list.appendChild(el('li', 'nothing yet', 'muted'));
  for (const item of items.slice(0, TIMELINE_MAX)) {
    const li = el('li', null, item.cls);
    li.appendChild(el('span', time(item.at), 'when'));
    li.appendChild(el('span', item.text));
    list.appendChild(li);
  }
}

// ------------------------------------------------------------------------------------------ keys

function keyPath(key) {
  return '/v1/kv/' + encodeURIComponent(key);
}

function shown(item) {
  if (item.value !== undefined) return item.value;
  if (item.valueBase64 !== undefined) return '(binary, base64) ' + item.valueBase64;
  return '';
}

async function listKeys(event) {
  if (event) event.preventDefault();
  const prefix = $('prefix').value;
  const message = $('key-message');
  try {
    const r = await json('/v1/kv?limit=100&prefix=' + encodeURIComponent(prefix));
    if (!r.ok) throw new Error(errorText(r));
    const body = document.querySelector('#keys tbody');
    body.replaceChildren();
    for (const item of r.body.items) {
      const tr = document.createElement('tr');
      tr.appendChild(el('td', item.key, 'key'));
      tr.appendChild(el('td', item.revision));
      const v = shown(item);
      tr.appendChild(el('td', v.length > 80 ? v.slice(0, 80) + '…' : v));
      tr.addEventListener('click', () => { $('key').value = item.key; $('value').value = item.value || ''; getKey(); });
      body.appendChild(tr);
    }
    message.textContent = r.body.items.length + ' key(s)' + (r.body.items.length === 100 ? ' (the first 100)' : '');
  } catch (e) {
    message.textContent = 'Listing failed: ' + e.message;
  }
}

function result(text, ok) {
  const r = $('key-result');
  r.textContent = text;
  r.className = 'result ' + (ok ? 'ok' : 'failed');
}

function needKey() {
  const key = $('key').value;
  if (!key) result('Give a key first.', false);
  return key;
}

async function getKey() {
  const key = needKey();
  if (!key) return;
  try {
    const r = await json(keyPath(key));
    if (r.status === 404) return result(key + ': not found', false);
    if (!r.ok) return result('Get failed: ' + errorText(r), false);
    result(key + ' at revision ' + r.body.revision + ':\n' + shown(r.body), true);
  } catch (e) {
    result('Get failed: ' + e.message, false);
  }
}

async function putKey(event) {
  event.preventDefault();
  const key = needKey();
  if (!key) return;
  try {
    const r = await json(keyPath(key), { method: 'PUT', body: $('value').value, headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
    if (!r.ok) return result('Put failed: ' + errorText(r), false);
    result('Put ' + key + ': revision ' + r.body.revision, true);
    listKeys();
  } catch (e) {
    result('Put failed: ' + e.message + ' (it may still have been applied)', false);
  }
}

async function deleteKey() {
  const key = needKey();
  if (!key) return;
  try {
    const r = await json(keyPath(key), { method: 'DELETE' });
    if (r.status === 404) return result(key + ': not found', false);
    if (!r.ok) return result('Delete failed: ' + errorText(r), false);
    result('Deleted ' + key + ' at revision ' + r.body.revision, true);
    listKeys();
  } catch (e) {
    result('Delete failed: ' + e.message + ' (it may still have been applied)', false);
  }
}

$('list-form').addEventListener('submit', listKeys);
$('put-form').addEventListener('submit', putKey);
$('get-button').addEventListener('click', getKey);
$('delete-button').addEventListener('click', deleteKey);
renderTimeline();
poll();
listKeys();
