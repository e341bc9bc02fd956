/**
 * The report page's own style and script (plain browser JavaScript, no template literals so it can live in a
 * String.raw here). It reads the JSON in #picket-data and draws: header figures, a timeline of incidents per
 * source (SVG), top sources/targets/ports (SVG bars), the host by port heat map (SVG), intel lookups over time
 * (uPlot) and the incident table with its filters. Elements carry data-figure / data-* attributes so that a test
 * can read the figures the page shows.
 */
export const PAGE_CSS = String.raw`
:root { --fg: #1d2430; --muted: #5c6677; --line: #d8dde6; --bg: #fff; --panel: #f6f8fb; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); margin: 0; padding: 20px 28px 60px; }
h1 { font-size: 22px; margin: 0 0 6px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; color: var(--muted); margin: 6px 0 12px; }
.meta b { color: var(--fg); font-weight: 600; }
.figs { display: flex; flex-wrap: wrap; gap: 10px; margin: 10px 0; }
.fig { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 120px; }
.fig .n { font-size: 22px; font-weight: 650; display: block; }
.fig .l { color: var(--muted); font-size: 12px; }
.rules span { display: inline-block; margin: 2px 8px 2px 0; padding: 1px 7px; border-radius: 10px; background: var(--panel); border: 1px solid var(--line); font-size: 12px; }
.grid3 { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 16px; }
svg text { font: 11px system-ui, sans-serif; fill: var(--fg); }
svg .axis { stroke: var(--line); }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--panel); position: sticky; top: 0; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.inc { cursor: pointer; }
tr.inc:hover { background: #eef3fb; }
tr.docs td { background: #fbfcfe; }
pre { margin: 4px 0; font-size: 11.5px; white-space: pre-wrap; word-break: break-all; max-height: 340px; overflow: auto; background: #f3f5f8; padding: 6px 8px; border-radius: 4px; }
.filters { display: flex; gap: 10px; align-items: center; margin: 8px 0; flex-wrap: wrap; }
.filters input, .filters select { font: inherit; padding: 3px 6px; }
.muted { color: var(--muted); }
.sw { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin: 0 4px 0 10px; vertical-align: middle; }
.sev-high { color: #c92a2a; font-weight: 600; } .sev-crit { color: #a61e4d; font-weight: 700; } .sev-med { color: #b35c00; }
button { font: inherit; padding: 3px 10px; }
`;

export const PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('picket-data').textContent);
  var M = D.meta;
  var FAM = { scan: '#d9480f', intel: '#1971c2', probe: '#7048e8', dns: '#2b8a3e', other: '#868e96' };
  var SVGNS = 'http://www.w3.org/2000/svg';
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function sv(tag, attrs, text) {
    var e = document.createElementNS(SVGNS, tag);
    if (attrs) for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function fam(kind) { var f = String(kind).split('.')[0]; return FAM[f] ? f : 'other'; }
  function iso(sec) { return new Date(sec * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z'); }
  function sevName(n) { return n >= 99 ? 'crit' : n >= 73 ? 'high' : n >= 47 ? 'med' : n >= 21 ? 'low' : '-'; }
  function section(title, id) { var s = el('section', { id: id }); s.appendChild(el('h2', null, title)); document.body.appendChild(s); return s; }
  var kindsOf = function (inc) { return inc[2].map(function (i) { return D.kinds[i]; }); };

  // Header: what was read, the time range, the version and the rules.
  document.title = M.title;
  document.body.appendChild(el('h1', null, M.title));
  var meta = el('div', { 'class': 'meta' });
  function row(k, v, fig) { meta.appendChild(el('b', null, k)); var d = el('span', fig ? { 'data-meta': fig } : null, v); meta.appendChild(d); }
  row('input', M.inputs.join(', '), 'input');
  if (M.replayed.length) row('replayed captures', M.replayed.join(', '), 'replayed');
  row('time range', M.first ? M.first + ' to ' + M.last : 'no alerts', 'range');
  row('picket', M.version + (M.versions.length && (M.versions.length > 1 || M.versions[0] !== M.version) ? ' (alerts written by ' + M.versions.join(', ') + ')' : ''), 'version');
  row('rules', M.rules.length ? M.rules.join(', ') : 'not named by the input', 'rules');
  row('generated', M.generated);
  if (M.unreadable) row('unreadable lines', M.unreadable + ' (not JSON, passed over)', 'unreadable');
  var over = Object.keys(M.overflow);
  if (over.length) row('not tabled', over.map(function (k) { return k + ' ' + M.overflow[k]; }).join(', ') + ' (tables full; counted in the totals)', 'overflow');
  document.body.appendChild(meta);
  var figs = el('div', { 'class': 'figs' });
  function fig(n, label, key) { var f = el('div', { 'class': 'fig' }); f.appendChild(el('span', { 'class': 'n', 'data-figure': key }, n)); f.appendChild(el('span', { 'class': 'l' }, label)); figs.appendChild(f); }
  fig(M.alerts, 'alerts', 'alerts');
  fig(D.incidents.length, 'incidents', 'incidents');
  fig(M.scanners, 'scanning sources', 'scanners');
  fig(M.clients, 'clients that looked up intel services', 'clients');
  if (D.health) fig(D.health.packets, 'packets', 'packets');
  document.body.appendChild(figs);
  var rules = el('div', { 'class': 'rules' });
  Object.keys(D.byRule).sort().forEach(function (k) {
    var s = el('span', { 'data-rule': k, 'data-count': D.byRule[k] });
    s.appendChild(el('i', { 'class': 'sw', style: 'margin-left:0;background:' + FAM[fam(k)] }));
    s.appendChild(document.createTextNode(k + ' ' + D.byRule[k]));
    rules.appendChild(s);
  });
  document.body.appendChild(rules);

  // Timeline: one row per source (the most severe and busiest first), a bar per incident from first to last alert.
  (function () {
    var s = section('Timeline of incidents per source', 'timeline');
    var bySrc = {};
    D.incidents.forEach(function (inc) {
      var k = inc[1] || '(none)';
      var r = bySrc[k] || (bySrc[k] = { src: k, incs: [], sev: 0, docs: 0, tools: {} });
      r.incs.push(inc); r.sev = Math.max(r.sev, inc[6]); r.docs += inc[7];
      if (D.tools[inc[3]]) r.tools[D.tools[inc[3]]] = 1;
    });
    var rows = Object.keys(bySrc).map(function (k) { return bySrc[k]; }).sort(function (a, b) { return b.sev - a.sev || b.docs - a.docs || (a.src < b.src ? -1 : 1); });
    var shown = rows.slice(0, 30);
    if (!shown.length) { s.appendChild(el('p', { 'class': 'muted' }, 'No incidents.')); return; }
    // A broken time axis: the (at most 11) longest stretches with no alert, if over a minute, are cut out and
    // marked, so that bursts hours or days apart each get room.
    var iv = [];
    shown.forEach(function (r) { r.incs.forEach(function (i) { iv.push([i[4], Math.max(i[5], i[4])]); }); });
    iv.sort(function (a, b) { return a[0] - b[0]; });
    var merged = [];
    iv.forEach(function (v) {
      var last = merged[merged.length - 1];
      if (last && v[0] <= last[1]) last[1] = Math.max(last[1], v[1]); else merged.push([v[0], v[1]]);
    });
    var gaps = [];
    for (var gi = 1; gi < merged.length; gi++) gaps.push([merged[gi][0] - merged[gi - 1][1], gi]);
    var cutAt = {};
    gaps.filter(function (g) { return g[0] > 60; }).sort(function (a, b) { return b[0] - a[0]; }).slice(0, 11).forEach(function (g) { cutAt[g[1]] = 1; });
    var segs = [];
    merged.forEach(function (v, i) { if (i === 0 || cutAt[i]) segs.push([v[0], v[1]]); else segs[segs.length - 1][1] = v[1]; });
    var range = segs.reduce(function (a, g) { return a + (g[1] - g[0]); }, 0) || 1;
    var W = 1100, L = 250, R = 20, RH = 20, H = shown.length * RH + 40, GAP = 14;
    var avail = W - L - R - GAP * (segs.length - 1);
    var durs = segs.map(function (g) { return Math.max(g[1] - g[0], range / (3 * segs.length), 1); });
    var tot = durs.reduce(function (a, b) { return a + b; }, 0);
    var starts = []; var acc = L;
    segs.forEach(function (g, i) { starts.push(acc); acc += avail * durs[i] / tot + GAP; });
    var svg = sv('svg', { viewBox: '0 0 ' + W + ' ' + H, width: '100%', role: 'img', 'data-chart': 'timeline' });
    var x = function (t) {
      for (var i = segs.length - 1; i >= 0; i--) if (t >= segs[i][0] || i === 0) return starts[i] + Math.min(1, Math.max(0, (t - segs[i][0]) / durs[i])) * avail * durs[i] / tot;
      return L;
    };
    var lastLabel = -1000;
    segs.forEach(function (g, i) {
      var gx = starts[i];
      svg.appendChild(sv('line', { x1: gx, x2: gx, y1: 10, y2: H - 22, 'class': 'axis' }));
      // Labels that would run into the previous one are left out (the bars' tooltips have exact times).
      if (gx - lastLabel >= 125 && gx <= W - 120) { svg.appendChild(sv('text', { x: gx, y: H - 8 }, iso(g[0]).slice(0, 16))); lastLabel = gx; }
      if (i > 0) svg.appendChild(sv('text', { x: gx - GAP / 2, y: 9, 'text-anchor': 'middle', fill: '#868e96' }, '//'));
    });
    shown.forEach(function (r, ri) {
      var y = 12 + ri * RH;
      var tools = Object.keys(r.tools);
      svg.appendChild(sv('text', { x: 4, y: y + 12 }, r.src + (tools.length ? '  ' + tools.join(',') : '')));
      r.incs.forEach(function (inc) {
        var x0 = x(inc[4]), x1 = Math.max(x(inc[5]), x0 + 3);
        var ks = kindsOf(inc);
        var rect = sv('rect', { x: x0, y: y + 2, width: x1 - x0, height: RH - 6, rx: 2, fill: FAM[fam(ks[0])], 'data-incident': inc[0] });
        rect.appendChild(sv('title', null, inc[0] + '\n' + ks.join(', ') + (D.tools[inc[3]] ? '\ntool: ' + D.tools[inc[3]] : '') + '\n' + iso(inc[4]) + ' to ' + iso(inc[5]) + '\n' + inc[7] + ' alerts'));
        svg.appendChild(rect);
      });
    });
    s.appendChild(svg);
    var legend = el('p', { 'class': 'muted' });
    ['scan', 'intel', 'probe', 'dns'].forEach(function (f) { legend.appendChild(el('i', { 'class': 'sw', style: 'background:' + FAM[f] })); legend.appendChild(document.createTextNode(f)); });
    legend.appendChild(document.createTextNode(' \u2014 ' + shown.length + ' of ' + rows.length + ' sources (most severe, then most alerts); hover a bar for its kinds and tool'));
    s.appendChild(legend);
  })();

  // Top sources, targets and ports: horizontal bars.
  function bars(title, items, key, note) {
    var box = el('div', { 'data-top': key });
    box.appendChild(el('h3', null, title));
    if (!items.length) { box.appendChild(el('p', { 'class': 'muted' }, 'none')); return box; }
    var W = 420, L = 170, RH = 18, H = items.length * RH + 6;
    var max = Math.max.apply(null, items.map(function (i) { return i[1]; })) || 1;
    var svg = sv('svg', { viewBox: '0 0 ' + W + ' ' + H, width: '100%', role: 'img', 'data-chart': 'top-' + key });
    items.forEach(function (it, i) {
      var y = 3 + i * RH;
      var g = sv('g', { 'data-label': it[0], 'data-value': it[1] });
      g.appendChild(sv('text', { x: 2, y: y + 12 }, it[2] || it[0]));
      g.appendChild(sv('rect', { x: L, y: y + 2, height: RH - 5, width: Math.max(1, (W - L - 50) * it[1] / max), fill: '#4c6ef5' }));
      g.appendChild(sv('text', { x: L + Math.max(1, (W - L - 50) * it[1] / max) + 4, y: y + 12 }, it[1]));
      svg.appendChild(g);
    });
    box.appendChild(svg);
    if (note) box.appendChild(el('p', { 'class': 'muted' }, note));
    return box;
  }
  (function () {
    var s = section('Top sources, targets and ports', 'top');
    var g = el('div', { 'class': 'grid3' });
    g.appendChild(bars('Sources by connection attempts', D.topSources.map(function (t) { return [t.source, t.attempts, t.source + (t.tool ? ' (' + t.tool + ')' : '')]; }), 'sources'));
    g.appendChild(bars('Targets (hosts) by scanners naming them', D.targets, 'targets', 'From the alerts\' target samples and the services that answered.'));
    g.appendChild(bars('Ports by scanners naming them', D.ports, 'ports'));
    s.appendChild(g);
  })();

  // Heat map: hosts (rows) by ports (columns) for the largest scans.
  (function () {
    var s = section('Hosts by ports of the largest scans', 'heat');
    var h = D.heat;
    if (!h.hosts.length || !h.ports.length) { s.appendChild(el('p', { 'class': 'muted' }, 'No scan targets.')); return; }
    var C = 26, L = 130, T = 70;
    var W = L + h.ports.length * C + 10, H = T + h.hosts.length * C + 10;
    var svg = sv('svg', { viewBox: '0 0 ' + W + ' ' + H, width: Math.min(W * 1.3, 1100), role: 'img', 'data-chart': 'heatmap' });
    var max = 1;
    h.cells.forEach(function (r) { r.forEach(function (v) { max = Math.max(max, v); }); });
    var ans = {};
    h.answered.forEach(function (a) { ans[a[0] + ',' + a[1]] = 1; });
    h.ports.forEach(function (p, j) { svg.appendChild(sv('text', { x: L + j * C + C / 2, y: T - 6, transform: 'rotate(-55 ' + (L + j * C + C / 2) + ' ' + (T - 6) + ')' }, p)); });
    h.hosts.forEach(function (host, i) {
      svg.appendChild(sv('text', { x: L - 6, y: T + i * C + C / 2 + 4, 'text-anchor': 'end' }, host));
      h.cells[i].forEach(function (v, j) {
        var a = 0.1 + 0.9 * v / max;
        var r = sv('rect', { x: L + j * C + 1, y: T + i * C + 1, width: C - 2, height: C - 2, fill: v ? 'rgba(217,72,15,' + a.toFixed(2) + ')' : '#f1f3f5', 'data-cell': host + ' ' + h.ports[j], 'data-value': v });
        r.appendChild(sv('title', null, host + ' ' + h.ports[j] + ': ' + v + ' scanner(s)' + (ans[i + ',' + j] ? ', answered' : '')));
        svg.appendChild(r);
        if (ans[i + ',' + j]) svg.appendChild(sv('circle', { cx: L + j * C + C / 2, cy: T + i * C + C / 2, r: 4, fill: '#fff', stroke: '#1d2430' }));
      });
    });
    s.appendChild(svg);
    s.appendChild(el('p', { 'class': 'muted' }, 'The ' + h.sources.length + ' largest scans (' + h.sources.join(', ') + '). A cell counts the scanners whose sampled targets include that host and port (alerts carry samples of the targets, not all of them); a ring marks a service that answered.'));
  })();

  // Intel lookups: sightings per client and domain over time (uPlot), and per client.
  (function () {
    var s = section('Intel lookups per client and domain', 'lookups');
    if (!D.lookups.length) { s.appendChild(el('p', { 'class': 'muted' }, 'No intel lookups.')); return; }
    var pairs = {};
    D.series.forEach(function (p) { var k = p[1] + ' ' + p[2]; pairs[k] = (pairs[k] || 0) + p[3]; });
    // Coarser buckets over a long range, so that the chart has at most about 150 of them.
    var tmin = Infinity, tmax = -Infinity;
    D.series.forEach(function (p) { tmin = Math.min(tmin, p[0]); tmax = Math.max(tmax, p[0]); });
    var BUCKETS = [60, 300, 900, 3600, 6 * 3600, 86400, 7 * 86400];
    var bucket = BUCKETS.filter(function (b) { return (tmax - tmin) / b <= 150; })[0] || BUCKETS[BUCKETS.length - 1];
    var series = D.series.map(function (p) { return [Math.floor(p[0] / bucket) * bucket, p[1], p[2], p[3]]; });
    var keys = Object.keys(pairs).sort(function (a, b) { return pairs[b] - pairs[a] || (a < b ? -1 : 1); }).slice(0, 8);
    var ts = [];
    var seen = {};
    series.forEach(function (p) { if (!seen[p[0]]) { seen[p[0]] = 1; ts.push(p[0]); } });
    ts.sort(function (a, b) { return a - b; });
    // Few buckets: pad one bucket either side so that bars have room.
    if (ts.length) { ts.unshift(ts[0] - bucket); ts.push(ts[ts.length - 1] + bucket); }
    var idx = {}; ts.forEach(function (t, i) { idx[t] = i; });
    var data = [ts];
    var palette = ['#1971c2', '#e8590c', '#2f9e44', '#9c36b5', '#c2255c', '#0c8599', '#f08c00', '#5f3dc4'];
    keys.forEach(function (k) {
      var ys = ts.map(function () { return null; });
      series.forEach(function (p) { if (p[1] + ' ' + p[2] === k) ys[idx[p[0]]] = (ys[idx[p[0]]] || 0) + p[3]; });
      data.push(ys);
    });
    var box = el('div', { id: 'lookups-chart', 'data-chart': 'lookups' });
    s.appendChild(box);
    var width = Math.min(1100, Math.max(500, document.body.clientWidth - 60));
    new uPlot({
      width: width, height: 280,
      scales: { x: { time: true } },
      series: [{}].concat(keys.map(function (k, i) { return { label: k, stroke: palette[i], fill: palette[i] + '55', width: 1.5, points: { show: true, size: 6 }, spanGaps: false, paths: uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.6, 40] }) : undefined }; })),
      axes: [{}, { label: 'sightings per ' + (bucket < 3600 ? bucket / 60 + ' min' : bucket / 3600 + ' h') }],
    }, data, box);
    s.appendChild(el('p', { 'class': 'muted' }, 'Sightings per ' + (bucket < 3600 ? bucket / 60 + ' min' : bucket / 3600 + ' h') + ' of the ' + keys.length + ' busiest client / domain pairs (of ' + Object.keys(pairs).length + ').'));
    var tab = el('table', { 'data-table': 'lookups' });
    var hr = el('tr'); ['client', 'services', 'domains', 'protocols', 'sightings', 'first', 'last'].forEach(function (h, i) { hr.appendChild(el('th', i === 4 ? { 'class': 'n' } : null, h)); });
    tab.appendChild(hr);
    D.lookups.slice().sort(function (a, b) { return b.count - a.count || (a.client < b.client ? -1 : 1); }).slice(0, 200).forEach(function (l) {
      var tr = el('tr', { 'data-client': l.client, 'data-count': l.count });
      [l.client, l.services.join(', '), l.indicators.join(', '), l.protocols.join(', '), l.count, l.first, l.last].forEach(function (v, i) { tr.appendChild(el('td', i === 4 ? { 'class': 'n' } : null, v)); });
      tab.appendChild(tr);
    });
    s.appendChild(tab);
    if (D.lookups.length > 200) s.appendChild(el('p', { 'class': 'muted' }, '200 of ' + D.lookups.length + ' clients (most sightings first).'));
  })();

  // Every incident, filterable, expanding to its documents.
  (function () {
    var s = section('Incidents', 'incidents');
    var f = el('div', { 'class': 'filters' });
    var src = el('input', { id: 'f-source', placeholder: 'source contains', size: 22 });
    var kind = el('select', { id: 'f-kind' }); kind.appendChild(el('option', { value: '' }, 'any kind'));
    D.kinds.forEach(function (k, i) { kind.appendChild(el('option', { value: String(i) }, k)); });
    var tool = el('select', { id: 'f-tool' }); tool.appendChild(el('option', { value: '' }, 'any tool'));
    D.tools.forEach(function (t, i) { if (t) tool.appendChild(el('option', { value: String(i) }, t)); });
    var count = el('span', { 'class': 'muted', id: 'f-count' });
    [src, kind, tool, count].forEach(function (e) { f.appendChild(e); });
    s.appendChild(f);
    var tab = el('table', { 'data-table': 'incidents' });
    var head = el('tr'); ['incident', 'source', 'kinds', 'tool', 'first', 'last', 'sev', 'alerts'].forEach(function (h, i) { head.appendChild(el('th', i === 7 ? { 'class': 'n' } : null, h)); });
    var tbody = el('tbody');
    tab.appendChild(el('thead')).appendChild(head); tab.appendChild(tbody);
    s.appendChild(tab);
    var more = el('button', { id: 'f-more' }, 'show more');
    s.appendChild(more);
    var PAGE = 100, limit = PAGE, list = D.incidents;
    function apply() {
      var q = src.value.trim(), k = kind.value === '' ? -1 : Number(kind.value), t = tool.value === '' ? -1 : Number(tool.value);
      list = D.incidents.filter(function (inc) {
        return (!q || String(inc[1]).indexOf(q) >= 0) && (k < 0 || inc[2].indexOf(k) >= 0) && (t < 0 || inc[3] === t);
      });
      limit = PAGE; render();
    }
    function render() {
      tbody.textContent = '';
      list.slice(0, limit).forEach(function (inc) {
        var tr = el('tr', { 'class': 'inc', 'data-incident': inc[0], 'data-docs': inc[7] });
        var sv2 = sevName(inc[6]);
        [inc[0], inc[1], kindsOf(inc).join(', '), D.tools[inc[3]] || '', iso(inc[4]), iso(inc[5]), sv2, inc[7]].forEach(function (v, i) {
          tr.appendChild(el('td', i === 7 ? { 'class': 'n' } : i === 6 ? { 'class': 'sev-' + sv2 } : null, v));
        });
        tr.addEventListener('click', function () {
          var next = tr.nextSibling;
          if (next && next.className === 'docs') { next.remove(); return; }
          var d = el('tr', { 'class': 'docs' }); var td = el('td', { colspan: 8 });
          if (inc[9] > 0) {
            for (var i = 0; i < inc[9]; i++) td.appendChild(el('pre', { 'data-doc': inc[0] }, JSON.stringify(D.docs[inc[8] + i], null, 1)));
            if (inc[7] > inc[9]) td.appendChild(el('p', { 'class': 'muted' }, (inc[7] - inc[9]) + ' later documents of this incident are not embedded (the first ' + inc[9] + ' are).'));
          } else {
            td.appendChild(el('p', { 'class': 'muted' }, 'Documents not embedded (the report keeps the first documents of each severity, at most 5 per incident: ' + M.embeddedDocs + ' here); ' + inc[7] + ' alerts.'));
          }
          d.appendChild(td); tr.parentNode.insertBefore(d, tr.nextSibling);
        });
        tbody.appendChild(tr);
      });
      count.textContent = list.length + ' of ' + D.incidents.length + ' incidents' + (list.length > limit ? ', first ' + limit + ' shown' : '');
      more.style.display = list.length > limit ? '' : 'none';
    }
    more.addEventListener('click', function () { limit += PAGE * 5; render(); });
    src.addEventListener('input', apply); kind.addEventListener('change', apply); tool.addEventListener('change', apply);
    apply();
  })();

  // Decode and capture health, from the run's final counters.
  (function () {
    var s = section('Decode and capture health', 'health');
    var h = D.health;
    if (!h) { s.appendChild(el('p', { 'class': 'muted' }, 'The input has no counters document (event.kind metric).')); return; }
    var t = el('table', { 'data-table': 'health' });
    var rows = [['packets', h.packets], ['bytes', h.bytes], ['files', h.files], ['files cut short', h.filesTruncated], ['files damaged', h.filesDamaged], ['decode errors', h.decodeErrors], ['scan sources evicted', h.scanSourcesEvicted], ['streams evicted', h.streamsEvicted]];
    Object.keys(h.decode).forEach(function (k) { rows.push(['decode event ' + k, h.decode[k]]); });
    Object.keys(h.capture).forEach(function (i) { Object.keys(h.capture[i]).forEach(function (k) { rows.push([i + ' ' + k.replace(/_/g, ' '), h.capture[i][k]]); }); });
    rows.forEach(function (r) { var tr = el('tr', { 'data-health': r[0] }); tr.appendChild(el('td', null, r[0])); tr.appendChild(el('td', { 'class': 'n' }, r[1])); t.appendChild(tr); });
    s.appendChild(t);
  })();
  // How long the page took from navigation to drawn (bench/report-scale.ts reads it).
  document.body.setAttribute('data-render-ms', String(Math.round(performance.now())));
  document.body.setAttribute('data-ready', '1');
})();
`;
