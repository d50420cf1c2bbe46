/**
 * The live status page served at `/`: one self-contained HTML document (inline CSS and JS,
 * nothing fetched from the internet) that polls `/status.json` every second. It is a TS string
 * so `tsc` ships it in dist/ without a copy step. The page shell carries no data: when the admin
 * API has a token, the page takes it from `?token=` once (kept in sessionStorage, removed from
 * the address bar) or asks for it.
 *
 * The script avoids backticks and dollar-brace so it can live inside this template literal.
 */
export const STATUS_PAGE_HTML = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>patroni-router status</title>
<style>
  :root {
    --bg: #0f1419; --panel: #171e26; --panel2: #1d2631; --line: #2a3542; --text: #d8dee6; --dim: #8793a1;
    --green: #3fb950; --green-bg: rgba(63,185,80,.14); --amber: #d29922; --amber-bg: rgba(210,153,34,.15);
    --red: #f85149; --red-bg: rgba(248,81,73,.14); --blue: #58a6ff; --blue-bg: rgba(88,166,255,.13); --violet: #bc8cff;
    --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace;
  }
  * { box-sizing: border-box; }
  body { margin: 0; background: var(--bg); color: var(--text); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
  header { display: flex; align-items: center; gap: 14px; padding: 12px 22px; background: var(--panel); border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 2; }
  header h1 { font-size: 17px; margin: 0; font-weight: 650; letter-spacing: .2px; }
  header .spacer { flex: 1; }
  header .meta { color: var(--dim); font-size: 12.5px; }
  main { padding: 18px 22px 40px; display: grid; grid-template-columns: minmax(0, 1fr) 420px; gap: 18px; }
  @media (max-width: 1200px) { main { grid-template-columns: 1fr; } }
  section.card { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; margin-bottom: 18px; overflow: hidden; }
  section.card > h2 { margin: 0; padding: 11px 16px; font-size: 14.5px; font-weight: 650; border-bottom: 1px solid var(--line); display: flex; align-items: center; gap: 10px; flex-wrap: wrap; background: var(--panel2); }
  section.card > h2 .sub { color: var(--dim); font-weight: 400; font-size: 12.5px; }
  .body { padding: 12px 16px; }
  table { width: 100%; border-collapse: collapse; font-size: 13.5px; }
  th { text-align: left; font-weight: 600; color: var(--dim); font-size: 11.5px; text-transform: uppercase; letter-spacing: .6px; padding: 8px 12px; border-bottom: 1px solid var(--line); white-space: nowrap; }
  td { padding: 8px 12px; border-bottom: 1px solid var(--line); vertical-align: top; }
  tr:last-child td { border-bottom: 0; }
  td.num { text-align: right; font-family: var(--mono); }
  .mono { font-family: var(--mono); font-size: 12.5px; }
  .pill { display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 12px; font-weight: 600; white-space: nowrap; border: 1px solid transparent; }
  .ok { color: var(--green); background: var(--green-bg); border-color: rgba(63,185,80,.35); }
  .warn { color: var(--amber); background: var(--amber-bg); border-color: rgba(210,153,34,.35); }
  .bad { color: var(--red); background: var(--red-bg); border-color: rgba(248,81,73,.35); }
  .info { color: var(--blue); background: var(--blue-bg); border-color: rgba(88,166,255,.3); }
  .muted { color: var(--dim); }
  .role-leader { color: var(--green); font-weight: 700; }
  .role-sync { color: var(--blue); font-weight: 600; }
  .role-other { color: var(--amber); font-weight: 600; }
  .tag { display: inline-block; font-family: var(--mono); font-size: 11.5px; padding: 0 6px; margin: 0 4px 2px 0; border-radius: 4px; background: #243040; color: #b8c4d2; }
  .tag.flag { background: rgba(188,140,255,.16); color: var(--violet); }
  .banner { margin: 0 0 18px; padding: 12px 16px; border-radius: 10px; font-weight: 600; display: none; }
  .banner.show { display: block; }
  .banner.bad { border: 1px solid rgba(248,81,73,.5); }
  .banner.warn { border: 1px solid rgba(210,153,34,.5); }
  .listener { border-bottom: 1px solid var(--line); padding: 12px 16px; }
  .listener:last-child { border-bottom: 0; }
  .listener .top { display: flex; align-items: baseline; gap: 10px; flex-wrap: wrap; }
  .listener .name { font-weight: 700; font-size: 14.5px; }
  .listener .arrow { font-size: 15px; margin-left: auto; }
  .listener .target { font-family: var(--mono); font-weight: 700; font-size: 14.5px; }
  .listener .target.bad { font-family: inherit; font-weight: 600; font-size: 12.5px; white-space: normal; border-radius: 8px; }
  .listener ul { margin: 6px 0 0; padding: 0; list-style: none; }
  .listener li { font-size: 12.5px; color: var(--dim); padding: 1px 0; }
  .listener li b { color: var(--text); font-family: var(--mono); font-weight: 600; }
  .reason { display: inline-block; min-width: 92px; font-family: var(--mono); font-size: 11px; color: var(--amber); }
  .phases { display: flex; gap: 0; margin-top: 4px; }
  .phase { flex: 1; padding: 8px 10px; border-left: 3px solid var(--line); }
  .phase.done { border-left-color: var(--green); }
  .phase .label { font-size: 11.5px; color: var(--dim); text-transform: uppercase; letter-spacing: .5px; }
  .phase .value { font-family: var(--mono); font-size: 16px; font-weight: 700; }
  .events { max-height: calc(100vh - 150px); overflow-y: auto; }
  .event { display: grid; grid-template-columns: 86px 1fr; gap: 10px; padding: 7px 14px; border-bottom: 1px solid var(--line); font-size: 12.8px; }
  .event .when { font-family: var(--mono); color: var(--dim); font-size: 11.8px; padding-top: 1px; }
  .event .kind { font-size: 10.5px; font-weight: 700; text-transform: uppercase; letter-spacing: .5px; margin-right: 6px; }
  .event.leader .kind, .event.failover .kind { color: var(--blue); }
  .event.fenced .kind, .event.hold-timeout .kind, .event.refused .kind, .event.dcs .kind { color: var(--amber); }
  .event.topology .kind, .event.reload .kind, .event.probe .kind { color: var(--dim); }
  .event.probe { color: var(--dim); }
  .event .where { color: var(--dim); font-size: 11.5px; }
  .event .count { color: var(--amber); font-family: var(--mono); font-size: 11.5px; margin-left: 6px; }
  .event.fresh { animation: flash 2.2s ease-out; }
  @keyframes flash { from { background: rgba(88,166,255,.22); } to { background: transparent; } }
  .kv { display: flex; flex-wrap: wrap; gap: 8px 18px; font-size: 13px; }
  .kv span.k { color: var(--dim); margin-right: 5px; }
  form.token { display: flex; gap: 8px; align-items: center; }
  form.token input { background: var(--bg); color: var(--text); border: 1px solid var(--line); border-radius: 6px; padding: 6px 9px; font-family: var(--mono); width: 320px; }
  form.token button { background: var(--blue); color: #04111f; border: 0; border-radius: 6px; padding: 6px 12px; font-weight: 700; cursor: pointer; }
  .empty { color: var(--dim); padding: 14px 16px; }
</style>
</head>
<body>
<header>
  <h1>patroni-router</h1>
  <span id="ready" class="pill muted">loading</span>
  <span id="workers"></span>
  <span class="spacer"></span>
  <span class="meta" id="updated">connecting...</span>
</header>
<main>
  <div>
    <div id="banner" class="banner"></div>
    <div id="tokenbox" class="banner warn">
      This admin API needs its token.
      <form class="token" id="tokenform"><input id="tokeninput" type="password" placeholder="admin token" autocomplete="off"><button type="submit">Use token</button></form>
    </div>
    <div id="clusters"></div>
    <section class="card"><h2>Listeners <span class="sub">where a new connection would go now, and why not elsewhere</span></h2><div id="listeners"><div class="empty">waiting for data</div></div></section>
  </div>
  <div>
    <section class="card"><h2>Recent events <span class="sub">newest first</span></h2><div id="events" class="events"><div class="empty">waiting for data</div></div></section>
  </div>
</main>
<script>
(function () {
  'use strict';
  var KEY = 'patroni-router-admin-token';
  var params = new URLSearchParams(location.search);
  if (params.has('token')) {
    sessionStorage.setItem(KEY, params.get('token') || '');
    params.delete('token');
    var rest = params.toString();
    history.replaceState(null, '', location.pathname + (rest ? '?' + rest : '') + location.hash);
  }
  var seenSeq = 0;
  var failures = 0;
  var lastOk = 0;

  function esc(v) {
    return String(v === undefined || v === null ? '' : v).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function el(id) { return document.getElementById(id); }
  function pill(cls, text, testid) { return '<span class="pill ' + cls + '"' + (testid ? ' data-testid="' + testid + '"' : '') + '>' + esc(text) + '</span>'; }
  function bytes(n) {
    if (n === undefined || n === null) return '';
    if (n < 1024) return n + ' B';
    var units = ['kB', 'MB', 'GB', 'TB'];
    var v = n / 1024, i = 0;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return v.toFixed(v < 10 ? 1 : 0) + ' ' + units[i];
  }
  function ago(ms) {
    if (ms === undefined || ms === null) return 'never';
    var s = Math.max(0, (Date.now() - ms) / 1000);
    if (s < 1) return 'just now';
    if (s < 90) return s.toFixed(s < 10 ? 1 : 0) + ' s ago';
    if (s < 5400) return Math.round(s / 60) + ' min ago';
    return Math.round(s / 3600) + ' h ago';
  }
  function clock(ms) {
    var d = new Date(ms);
    function p(n, w) { n = String(n); while (n.length < w) n = '0' + n; return n; }
    return p(d.getHours(), 2) + ':' + p(d.getMinutes(), 2) + ':' + p(d.getSeconds(), 2) + '.' + p(d.getMilliseconds(), 3);
  }
  function secs(ms) { return ms === undefined ? '' : (ms / 1000).toFixed(2) + ' s'; }

  function roleOf(state, m) {
    if (m.name === state.writablePrimary) return { text: 'Leader', cls: 'role-leader' };
    if (m.name === state.leader) return { text: 'Leader (' + m.role + ')', cls: 'role-other' };
    if (m.role === 'standby_leader') return { text: 'Standby Leader', cls: 'role-leader' };
    if ((state.sync.standbys || []).indexOf(m.name) >= 0) return { text: state.config.synchronousMode === 'quorum' ? 'Quorum Standby' : 'Sync Standby', cls: 'role-sync' };
    if (m.role === 'replica') return { text: 'Replica', cls: '' };
    return { text: m.role, cls: 'role-other' };
  }
  function stateText(m) {
    return m.state === 'running' && m.role === 'replica' && m.replicationState ? m.replicationState : m.state;
  }
  function stateClass(s) {
    if (s === 'running' || s === 'streaming') return 'ok';
    if (/fail|crash|stopped|unknown/.test(s)) return 'bad';
    return 'warn';
  }
  function tagsHtml(tags) {
    var out = '';
    ['nofailover', 'noloadbalance', 'nosync', 'nostream'].forEach(function (f) { if (tags[f]) out += '<span class="tag flag">' + f + '</span>'; });
    Object.keys(tags.raw || {}).sort().forEach(function (k) {
      if (['nofailover', 'noloadbalance', 'nosync', 'nostream'].indexOf(k) >= 0) return;
      out += '<span class="tag">' + esc(k) + '=' + esc(tags.raw[k]) + '</span>';
    });
    return out || '<span class="muted">-</span>';
  }
  function sessionsHtml(perListener) {
    if (!perListener) return '<span class="muted">0</span>';
    var names = Object.keys(perListener).sort();
    if (names.length === 0) return '<span class="muted">0</span>';
    return names.map(function (l) { return '<span class="mono">' + esc(l) + '</span> <b>' + perListener[l] + '</b>'; }).join('<br>');
  }

  function renderCluster(c) {
    var s = c.state;
    var h = '<section class="card" data-cluster="' + esc(c.scope) + '"><h2>' + esc(c.scope) + ' <span class="sub">' + esc(c.namespace) + '</span>';
    if (!s) return h + pill('warn', 'topology not read yet') + '</h2></section>';
    h += pill(s.writablePrimary ? 'ok' : 'bad', s.writablePrimary ? 'primary ' + s.writablePrimary : 'no writable primary', 'leader');
    if (s.config.pause) h += pill('warn', 'maintenance mode (paused)');
    if (s.switchoverPending) {
      var f = s.failover || {};
      h += pill('info', 'switchover pending' + (f.leader || f.candidate ? ': ' + (f.leader || '?') + ' \u2192 ' + (f.candidate || 'any') : '') + (f.scheduledAt ? ' at ' + f.scheduledAt : ''));
    }
    if (s.stale) h += pill('bad', 'DCS unreachable: state is stale');
    h += pill('info', s.config.synchronousMode === 'quorum' ? 'quorum commit' : s.config.synchronousMode ? 'synchronous mode' + (s.config.synchronousModeStrict ? ' (strict)' : '') : 'asynchronous');
    if (s.config.failsafeMode) h += pill('info', 'failsafe mode');
    h += '</h2>';

    var dcs = c.dcs || {};
    var dcsCls = dcs.watch === 'connected' || dcs.watch === 'watching' || dcs.watch === 'polling' ? 'ok' : dcs.watch ? 'bad' : 'muted';
    h += '<div class="body kv">' +
      '<div><span class="k">DCS</span>' + pill(dcsCls, dcs.watch || 'unknown', 'dcs') + '</div>' +
      '<div><span class="k">last contact</span>' + esc(ago(dcs.lastContact !== undefined ? dcs.lastContact : s.lastDcsContact)) + '</div>' +
      '<div><span class="k">leader key</span><span class="mono">' + esc(s.leader || '(none)') + '</span></div>' +
      '<div><span class="k">ttl / loop_wait</span><span class="mono">' + s.config.ttl + ' s / ' + s.config.loopWait + ' s</span></div>' +
      '<div><span class="k">generation</span><span class="mono">' + s.generation + '</span></div>' +
      (s.leaderOptime !== undefined ? '<div><span class="k">leader optime</span><span class="mono">' + esc(bytes(s.leaderOptime)) + '</span></div>' : '') +
      '</div>';

    var ep = c.failover;
    if (ep && (!ep.outcome || (ep.endedAt && Date.now() - ep.endedAt < 15 * 60 * 1000 && ep.outcome !== 'cancelled'))) {
      var names = [['old_primary_fenced', 'old primary fenced'], ['new_primary_usable', 'new primary usable'], ['first_session_routed', 'first session routed']];
      // Only a switchover has a demote to announce, and only Patroni 3 and later announce it.
      if (ep.phases.demote_begun !== undefined || (ep.trigger === 'failover-key' && !ep.outcome)) names.unshift(['demote_begun', 'demote begun']);
      h += '<div class="body" data-testid="failover"><div class="muted" style="font-size:12.5px">' + (ep.outcome ? 'last failover' : '<b style="color:var(--amber)">failover in progress</b>') +
        ' \u00b7 began ' + esc(clock(ep.startedAt)) + ' (' + esc({ 'failover-key': 'failover key set', 'leader-key-gone': 'leader key gone', 'primary-lost': 'writable primary lost' }[ep.trigger] || ep.trigger) + ')' +
        ' \u00b7 ' + esc(ep.oldPrimary || '?') + ' \u2192 ' + esc(ep.newPrimary || '?') + '</div><div class="phases">';
      names.forEach(function (p) {
        var v = ep.phases[p[0]];
        h += '<div class="phase' + (v !== undefined ? ' done' : '') + '"><div class="label">' + p[1] + '</div><div class="value">' + (v !== undefined ? esc(secs(v)) : '<span class="muted">\u2026</span>') + '</div></div>';
      });
      h += '</div></div>';
    }

    h += '<table><thead><tr><th>Member</th><th>Host</th><th>Role</th><th>State</th><th>TL</th><th style="text-align:right">Lag</th><th>Tags</th><th>Sessions</th><th>REST</th></tr></thead><tbody>';
    s.members.forEach(function (m) {
      var r = roleOf(s, m);
      var obs = m.observed;
      var rest = !obs ? '<span class="muted">-</span>' : obs.reachable ? pill('ok', (obs.role || '?') + ' ' + ago(obs.at)) : pill('bad', 'unreachable');
      var lag = m.name === s.writablePrimary ? '' : m.lagBytes !== undefined ? esc(bytes(m.lagBytes)) + (m.lagSource ? ' <span class="muted">' + m.lagSource + '</span>' : '') : '<span class="muted">unknown</span>';
      h += '<tr data-member="' + esc(m.name) + '" data-role="' + esc(r.text) + '">' +
        '<td><b class="mono">' + esc(m.name) + '</b>' + (m.invalid ? '<br>' + pill('bad', 'invalid: ' + m.invalid) : '') + (m.pendingRestart ? '<br>' + pill('warn', 'pending restart') : '') + '</td>' +
        '<td class="mono">' + esc(m.host !== undefined ? m.host + ':' + m.port : '-') + '</td>' +
        '<td class="' + r.cls + '">' + esc(r.text) + '</td>' +
        '<td>' + pill(stateClass(m.state), stateText(m)) + '</td>' +
        '<td class="num">' + esc(m.timeline !== undefined ? m.timeline : '') + '</td>' +
        '<td class="num">' + lag + '</td>' +
        '<td>' + tagsHtml(m.tags) + '</td>' +
        '<td>' + sessionsHtml(c.sessionsByMember[m.name]) + '</td>' +
        '<td>' + rest + '</td></tr>';
    });
    if (s.members.length === 0) h += '<tr><td colspan="9" class="muted">no members registered</td></tr>';
    h += '</tbody></table>';
    if (s.problems && s.problems.length) h += '<div class="body">' + s.problems.map(function (p) { return pill('warn', p); }).join(' ') + '</div>';
    return h + '</section>';
  }

  function renderExplanation(ex) {
    var h = '';
    (ex.members || []).forEach(function (v) {
      if (v.eligible) return;
      h += '<li><span class="reason">' + esc(v.reason || '?') + '</span><b>' + esc(v.member) + '</b> ' + esc(v.detail || '') + '</li>';
    });
    return h;
  }

  function splitHtml(s) {
    var total = s.units.primary + s.units.replica;
    var share = total ? Math.round(100 * s.units.replica / total) + '%' : '\u2013';
    var pins = Object.keys(s.pinned).map(function (k) { return k + ' ' + s.pinned[k]; });
    var links = Object.keys(s.replicaLinks || {}).sort().map(function (k) { return k + ' ' + s.replicaLinks[k]; });
    var fallbacks = s.primaryReasons.consistency || 0;
    return '<div class="muted split" style="font-size:12px;margin-top:2px" data-testid="split">split: ' + esc(share) + ' of ' + total + ' units on replicas \u00b7 ' +
      fallbacks + ' read-your-writes fallbacks \u00b7 ' + s.retriedOnPrimary + ' retried on the primary \u00b7 pinned: ' + esc(pins.length ? pins.join(', ') : 'none') +
      ' \u00b7 replica links: ' + esc(links.length ? links.join(', ') : 'none') + '</div>';
  }

  function renderListener(l) {
    var target, cls;
    if (l.wouldUse.length > 0) { target = l.wouldUse.join(', '); cls = 'ok'; }
    else { target = l.note || (l.explanation && l.explanation.reason) || 'no eligible member'; cls = 'bad'; }
    var h = '<div class="listener" data-listener="' + esc(l.name) + '"><div class="top">' +
      '<span class="name">' + esc(l.name) + '</span>' +
      '<span class="mono muted">' + esc(l.host + ':' + l.port) + '</span>' +
      pill('info', l.route + (l.request.fallback ? ' \u21aa ' + l.request.fallback : '')) +
      (l.accepting ? '' : pill('bad', 'not listening')) +
      '<span class="muted">' + l.sessions.total + ' open' + (l.sessions.held ? ', <b style="color:var(--amber)">' + l.sessions.held + ' held</b>' : '') + '</span>' +
      '<span class="arrow">\u2192 <span class="target pill ' + cls + '" data-testid="routes-to">' + esc(target) + '</span></span></div>';
    var filters = [];
    Object.keys(l.request.tags || {}).forEach(function (k) { filters.push(k + '=' + l.request.tags[k]); });
    if (l.request.maxLagBytes !== undefined) filters.push('max_lag ' + bytes(l.request.maxLagBytes));
    filters.push(l.request.balance);
    if (l.routeUsed && l.routeUsed !== l.route) filters.push('using fallback ' + l.routeUsed);
    h += '<div class="muted" style="font-size:12px;margin-top:2px">' + esc(filters.join(' \u00b7 ')) + '</div>';
    if (l.split) h += splitHtml(l.split);
    if (l.explanation) {
      var items = renderExplanation(l.explanation);
      if (l.explanation.fallback && l.wouldUse.length === 0) items += renderExplanation(l.explanation.fallback);
      if (items) h += '<ul>' + items + '</ul>';
    }
    return h + '</div>';
  }

  function renderEvents(events) {
    if (!events.length) return '<div class="empty">no events yet</div>';
    var maxSeq = seenSeq;
    var h = events.map(function (e) {
      var fresh = seenSeq > 0 && e.seq > seenSeq;
      if (e.seq > maxSeq) maxSeq = e.seq;
      var where = [e.cluster, e.listener].filter(Boolean).join(' / ');
      return '<div class="event ' + esc(e.kind) + (fresh ? ' fresh' : '') + '"><div class="when" title="' + esc(new Date(e.at).toISOString()) + '">' + esc(clock(e.at)) + '</div><div>' +
        '<span class="kind">' + esc(e.kind) + '</span>' + esc(e.message) +
        (e.count > 1 ? '<span class="count">\u00d7' + e.count + ', last ' + esc(clock(e.lastAt)) + '</span>' : '') +
        (where ? ' <span class="where">' + esc(where) + '</span>' : '') + '</div></div>';
    }).join('');
    seenSeq = maxSeq;
    return h;
  }

  function render(data) {
    var t = data.topology;
    var ready = el('ready');
    ready.className = 'pill ' + (t.ready ? 'ok' : 'bad');
    ready.textContent = t.ready ? 'ready' : 'not ready';
    // With workers the session counts below are their sum; each worker's own count is here.
    el('workers').innerHTML = (t.workers || []).map(function (w) {
      return pill(w.state === 'ready' ? 'ok' : w.state === 'restarting' ? 'bad' : 'warn', 'worker ' + w.index + ' ' + w.state + (w.sessions !== undefined ? ', ' + w.sessions + ' sessions' : '') + (w.restarts ? ', restarted ' + w.restarts + '\u00d7' : ''), 'worker-' + w.index);
    }).join(' ');
    el('clusters').innerHTML = t.clusters.map(renderCluster).join('');
    el('listeners').innerHTML = t.listeners.length ? t.listeners.map(renderListener).join('') : '<div class="empty">no listeners configured</div>';
    el('events').innerHTML = renderEvents(data.events);
    var banner = el('banner');
    var noPrimary = t.clusters.filter(function (c) { return c.state && !c.state.writablePrimary; }).map(function (c) { return c.scope; });
    if (noPrimary.length) { banner.className = 'banner show bad'; banner.textContent = 'No writable primary in ' + noPrimary.join(', ') + ': write connections are being held or refused.'; }
    else banner.className = 'banner';
  }

  function poll() {
    var headers = {};
    var token = sessionStorage.getItem(KEY);
    if (token) headers.Authorization = 'Bearer ' + token;
    var ctl = new AbortController();
    var timer = setTimeout(function () { ctl.abort(); }, 3000);
    fetch('status.json', { headers: headers, cache: 'no-store', signal: ctl.signal }).then(function (res) {
      if (res.status === 401) { el('tokenbox').className = 'banner warn show'; throw new Error('token needed'); }
      if (!res.ok) throw new Error('HTTP ' + res.status);
      el('tokenbox').className = 'banner warn';
      return res.json();
    }).then(function (data) {
      failures = 0; lastOk = Date.now();
      render(data);
      el('updated').textContent = 'updated ' + clock(lastOk);
    }).catch(function (err) {
      failures++;
      el('updated').textContent = 'cannot reach the router (' + err.message + ')' + (lastOk ? '; last update ' + clock(lastOk) : '');
      if (failures > 2) { el('ready').className = 'pill bad'; el('ready').textContent = 'router unreachable'; }
    }).finally(function () { clearTimeout(timer); setTimeout(poll, 1000); });
  }

  el('tokenform').addEventListener('submit', function (e) {
    e.preventDefault();
    sessionStorage.setItem(KEY, el('tokeninput').value);
    el('tokeninput').value = '';
  });
  poll();
})();
</script>
</body>
</html>
`;
