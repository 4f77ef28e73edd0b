/*
 * RoomOps dashboard (docs/dashboard.md). Plain JavaScript, no framework,
 * no build step; served by the agent from bytes embedded in the binary.
 *
 * Safety rule: every value that comes from the server, a spec or Git is
 * put in the page with textContent, never parsed as markup; links are only
 * built from the configured commit URL template with a hex sha and an
 * http(s) scheme.
 */
'use strict';

(function () {
	const STATUSES = ['converged', 'pending', 'applying', 'partial', 'held',
	    'rejected', 'failed', 'suspended'];
	const LABELS = { held: 'held for confirmation' };
	const PAGE = 100;		/* rows per page */
	const TOKEN_KEY = 'roomops.apiToken';	/* sessionStorage: this tab */
	const SSE_FRAME_MAX = 1 << 20;	/* chars of one /events frame */

	const st = {
		view: null, room: null,
		offset: 0, status: '', q: '',
		rows: new Map(),	/* roomId -> tr */
		matched: 0, total: 0,
		commitUrl: null,
		firstRows: false,
		pageTimer: 0, roomTimer: 0, inflight: false, again: false,
	};

	const $ = (id) => document.getElementById(id);

	function el(tag, klass, text) {
		const e = document.createElement(tag);
		if (klass)
			e.className = klass;
		if (text !== undefined && text !== null)
			e.textContent = String(text);
		return e;
	}

	/* A class name from a server value (status, outcome): the word
	 * itself when it is one, else "other". */
	function cls(v) {
		return typeof v === 'string' && /^[a-z][a-z-]{0,31}$/.test(v) ?
		    v : 'other';
	}

	function clear(node) {
		while (node.firstChild)
			node.removeChild(node.firstChild);
	}

	function token() {
		try {
			return sessionStorage.getItem(TOKEN_KEY) || '';
		} catch (e) {
			return '';
		}
	}

	async function api(path, opts) {
		const o = Object.assign({ headers: {}, cache: 'no-store',
		    credentials: 'same-origin' }, opts || {});
		const t = token();
		if (t)
			o.headers.Authorization = 'Bearer ' + t;
		const r = await fetch(path, o);
		let body = null;
		const ct = r.headers.get('Content-Type') || '';
		if (ct.startsWith('application/json'))
			body = await r.json().catch(() => null);
		else
			body = await r.text();
		if (r.status === 401 && (!o.method || o.method === 'GET'))
			needToken();
		return { ok: r.ok, status: r.status, body: body };
	}

	/* The agent asks a token for reads too (--api-read-token-file):
	 * say so once and open the token field. */
	function needToken() {
		if (st.needToken)
			return;
		st.needToken = true;
		const b = $('banner');
		b.textContent = 'This agent needs a token to show its rooms: ' +
		    'enter its read token or its API token.';
		b.hidden = false;
		const inp = $('token-input');
		if (token() === '' && inp.hidden)
			tokenClick();
	}

	/* ---------------------------------------------------------- format */

	function ago(ts) {
		if (!ts)
			return '—';
		const t = Date.parse(ts);
		if (isNaN(t))
			return String(ts);
		let s = Math.round((Date.now() - t) / 1000);
		if (s < 0)
			s = 0;
		if (s < 60)
			return s + 's ago';
		if (s < 3600)
			return Math.floor(s / 60) + 'm ago';
		if (s < 86400)
			return Math.floor(s / 3600) + 'h ago';
		return Math.floor(s / 86400) + 'd ago';
	}

	function shortRev(rev) {
		if (!rev)
			return '—';
		rev = String(rev);
		if (/^[0-9a-f]{40,64}$/.test(rev))
			return rev.slice(0, 10);
		if (rev.startsWith('worktree:'))
			return 'worktree:' + rev.slice(9, 17);
		return rev.length > 24 ? rev.slice(0, 24) + '…' : rev;
	}

	/* A link to the commit, or null: template from --ui-commit-url,
	 * sha strictly hex, result strictly http(s). */
	function commitLink(rev) {
		if (!st.commitUrl || typeof rev !== 'string' ||
		    !/^[0-9a-f]{7,64}$/.test(rev))
			return null;
		let u;
		try {
			u = new URL(st.commitUrl.split('{sha}').join(rev));
		} catch (e) {
			return null;
		}
		if (u.protocol !== 'https:' && u.protocol !== 'http:')
			return null;
		const a = el('a', 'mono', rev.slice(0, 10));
		a.href = u.href;
		a.rel = 'noopener noreferrer';
		a.target = '_blank';
		a.title = rev;
		return a;
	}

	function revNode(rev) {
		return commitLink(rev) || el('span', 'mono', shortRev(rev));
	}

	function badge(status) {
		return el('span', 'badge ' + cls(status), LABELS[status] || status);
	}

	/* ------------------------------------------------------- overview */

	function renderCounts(counts, total) {
		const box = $('counts');
		clear(box);
		const all = el('button', 'count' + (st.status === '' ? ' active' :
		    ''));
		all.type = 'button';
		all.appendChild(el('span', 'n', total));
		all.appendChild(el('span', 'l', 'all rooms'));
		all.addEventListener('click', () => setFilter(''));
		box.appendChild(all);
		for (const s of STATUSES) {
			if (s === 'suspended' && !counts[s])
				continue;
			const b = el('button', 'count ' + s +
			    (st.status === s ? ' active' : ''));
			b.type = 'button';
			b.dataset.status = s;
			b.appendChild(el('span', 'n', counts[s] || 0));
			b.appendChild(el('span', 'l', LABELS[s] || s));
			b.title = LABELS[s] || s;
			b.addEventListener('click', () => setFilter(s));
			box.appendChild(b);
		}
	}

	function fillRow(tr, r) {
		clear(tr);
		tr.dataset.room = r.roomId;
		tr.dataset.status = r.status;
		const a = el('a', 'mono', r.roomId);
		a.href = '#/room/' + encodeURIComponent(r.roomId);
		const c0 = el('td', 'room');
		c0.appendChild(a);
		tr.appendChild(c0);
		const c1 = el('td', 'status');
		c1.appendChild(badge(r.status));
		if (r.suspended)
			c1.appendChild(badge('suspended'));
		tr.appendChild(c1);
		const c2 = el('td', 'rev');
		c2.appendChild(revNode(r.lastRevision));
		tr.appendChild(c2);
		const c3 = el('td', 'outcome');
		c3.appendChild(el('span', 'out ' + cls(r.lastOutcome),
		    r.lastOutcome));
		if (r.errors > 0)
			c3.appendChild(el('span', 'muted', ' · ' + r.errors +
			    (r.errors === 1 ? ' error' : ' errors')));
		tr.appendChild(c3);
		const c4 = el('td', 'when', ago(r.lastReconcile));
		c4.dataset.ts = r.lastReconcile || '';
		if (r.lastReconcile)
			c4.title = r.lastReconcile;
		tr.appendChild(c4);
		tr.appendChild(el('td', 'drift', r.drift > 0 ? r.drift +
		    ' pending' : '—'));
		const file = el('td', 'file mono', r.file || '');
		file.title = r.file || '';
		tr.appendChild(file);
		tr._row = r;
	}

	function renderRows(rows) {
		const body = $('rows');
		const keep = new Map();
		let prev = null;
		for (const r of rows) {
			let tr = st.rows.get(r.roomId);
			if (!tr) {
				tr = el('tr', 'room-row');
				fillRow(tr, r);
			} else if (JSON.stringify(tr._row) !== JSON.stringify(r))
				fillRow(tr, r);
			keep.set(r.roomId, tr);
			const want = prev ? prev.nextSibling : body.firstChild;
			if (want !== tr)
				body.insertBefore(tr, want);
			prev = tr;
		}
		for (const [id, tr] of st.rows)
			if (!keep.has(id))
				tr.remove();
		st.rows = keep;
		$('empty').hidden = rows.length > 0;
		if (rows.length > 0 && !st.firstRows) {
			st.firstRows = true;
			performance.mark('ro-first-rows');
		}
	}

	async function loadPage() {
		if (st.inflight) {
			st.again = true;
			return;
		}
		st.inflight = true;
		try {
			const p = new URLSearchParams({ offset: st.offset,
			    limit: PAGE });
			if (st.status)
				p.set('status', st.status);
			if (st.q)
				p.set('q', st.q);
			const r = await api('/status/rooms?' + p.toString());
			if (!r.ok || !r.body)
				return;
			const d = r.body;
			st.matched = d.matched;
			st.total = d.total;
			if (d.rooms.length === 0 && st.offset > 0 &&
			    st.offset >= d.matched) {
				st.offset = Math.max(0, (Math.ceil(d.matched /
				    PAGE) - 1) * PAGE);
				st.again = true;
				return;
			}
			renderRows(d.rooms);
			renderCounts(d.counts, d.total);
			const from = d.matched === 0 ? 0 : st.offset + 1;
			const to = st.offset + d.rooms.length;
			$('range').textContent = from + '–' + to + ' of ' +
			    d.matched.toLocaleString('en') +
			    (d.matched !== d.total ? ' (filtered from ' +
			    d.total.toLocaleString('en') + ')' : '');
			$('prev').disabled = st.offset === 0;
			$('next').disabled = to >= d.matched;
		} catch (e) {
			/* offline: the next event or tick tries again */
		} finally {
			st.inflight = false;
			if (st.again) {
				st.again = false;
				schedulePage(50);
			}
		}
	}

	function schedulePage(ms) {
		if (st.pageTimer)
			return;
		st.pageTimer = setTimeout(() => {
			st.pageTimer = 0;
			if (st.view === 'overview')
				loadPage();
		}, ms);
	}

	function setFilter(s) {
		st.status = s;
		st.offset = 0;
		$('filter').value = s;
		loadPage();
	}

	function kv(box, k, v, klass) {
		const d = el('div', 'kv');
		d.appendChild(el('span', 'k', k));
		const s = el('span', 'v' + (klass ? ' ' + klass : ''),
		    v === null || v === undefined || v === '' ? '—' : v);
		s.title = s.textContent;
		d.appendChild(s);
		box.appendChild(d);
		return d;
	}

	async function loadSource() {
		let r;
		try {
			r = await api('/status?rooms=false');
		} catch (e) {
			return;
		}
		if (!r.ok || !r.body)
			return;
		const d = r.body;
		const src = d.source || {};
		const h = $('health');
		h.textContent = d.health || '?';
		h.className = 'pill ' + (d.health === 'Healthy' ? 'ok' :
		    d.health === 'Degraded' ? 'warn' : 'bad');
		const rd = $('ready');
		rd.textContent = d.ready ? 'ready' : 'not ready';
		rd.className = 'pill ' + (d.ready ? 'ok' : 'warn');
		$('version').textContent = 'agent ' + (d.version || '?') +
		    (d.shard ? ' · shard ' + d.shard : '');
		const box = $('source');
		clear(box);
		if (src.repo) {
			kv(box, 'repository', src.repo);
			kv(box, 'branch', src.branch);
			const head = kv(box, 'head', '');
			const v = head.lastChild;
			clear(v);
			v.appendChild(revNode(src.head));
			kv(box, 'last fetch', ago(src.lastFetch));
		}
		if (src.watch)
			kv(box, 'watched folder', src.watch);
		if (!src.repo && !src.watch)
			kv(box, 'source', 'POST /apply only');
		kv(box, 'webhooks received', st.webhooks === undefined ? '—' :
		    st.webhooks).lastChild.id = 'src-webhooks';
		kv(box, 'queue depth', d.queuedRequests);
		kv(box, 'applying now', d.activeReconciliations);
		kv(box, 'health', d.health);
		kv(box, 'readiness', d.ready ? 'ready' : 'not ready');
		if (src.lastError)
			kv(box, 'last error', src.lastError, 'bad');
		if (d.audit && d.audit.blocked)
			kv(box, 'audit log', 'blocked (disk?)', 'bad');
	}

	async function loadWebhooks() {
		try {
			const r = await api('/metrics');
			if (!r.ok || typeof r.body !== 'string')
				return;
			let n = 0;
			for (const line of r.body.split('\n')) {
				const m = /^roomops_webhooks_total\{[^}]*result="(accepted|ignored)"[^}]*\}\s+([0-9.e+]+)$/.exec(line);
				if (m)
					n += Number(m[2]);
			}
			st.webhooks = n;
			const e = $('src-webhooks');
			if (e)
				e.textContent = String(n);
		} catch (e) {
			/* keep the last figure */
		}
	}

	/* ----------------------------------------------------------- room */

	function fact(box, k, v) {
		const d = el('div', 'fact');
		d.appendChild(el('div', 'k', k));
		const vv = el('div', 'v');
		if (v instanceof Node)
			vv.appendChild(v);
		else
			vv.textContent = v === null || v === undefined ||
			    v === '' ? '—' : String(v);
		d.appendChild(vv);
		box.appendChild(d);
	}

	function list(ul, items) {
		clear(ul);
		for (const s of items)
			ul.appendChild(el('li', 'mono', s));
	}

	async function loadRoomStatus(id) {
		const r = await api('/status/rooms/' + encodeURIComponent(id));
		if (st.room !== id)
			return null;
		if (!r.ok || !r.body) {
			showMsg('Room not found: ' + id, true);
			return null;
		}
		const d = r.body;
		const status = d.status || 'pending';
		const b = $('room-status');
		b.className = 'badge ' + cls(status);
		b.textContent = LABELS[status] || status;
		$('room-susp').hidden = !d.suspended;
		$('act-suspend').textContent = d.suspended ? 'Resume' : 'Suspend';
		$('act-suspend').dataset.on = d.suspended ? '1' : '';
		$('act-confirm').disabled = !(d.blocked && d.blocked.length);
		$('act-confirm').dataset.rev = d.lastRevision || '';
		const f = $('room-facts');
		clear(f);
		fact(f, 'status', LABELS[status] || status);
		fact(f, 'revision', revNode(d.lastRevision));
		fact(f, 'last outcome', d.lastOutcome);
		fact(f, 'when', d.lastReconcile ? ago(d.lastReconcile) + ' · ' +
		    d.lastReconcile : null);
		fact(f, 'phase', d.currentPhase);
		fact(f, 'cycles since converged', d.cyclesSinceConverged);
		fact(f, 'file', d.file);
		const errs = d.errors || [];
		$('room-errors').hidden = errs.length === 0;
		list($('room-error-list'), errs);
		const blk = d.blocked || [];
		$('room-blocked').hidden = blk.length === 0;
		list($('room-blocked-list'), blk);
		return d;
	}

	function auditItem(e) {
		const li = el('li', cls(e.outcome));
		const r1 = el('div', 'row1');
		r1.appendChild(el('span', 'out ' + cls(e.outcome), e.outcome));
		r1.appendChild(revNode(e.rev));
		r1.appendChild(el('span', 'muted', ago(e.ts)));
		li.appendChild(r1);
		const df = e.diff || {};
		const parts = [];
		const names = [['join', '+'], ['kick', '−'], ['update', '~'],
		    ['seed', 'seed '], ['promote', 'promote '],
		    ['delete', 'delete '], ['policies', 'policies ']];
		for (const [k, p] of names)
			if (df[k])
				parts.push(p + df[k] + (p.length === 1 ? ' ' + k : ''));
		li.appendChild(el('div', 'counts-line', parts.length ?
		    parts.join('  ') : 'no changes'));
		const meta = [];
		if (typeof e.durationMs === 'number')
			meta.push(e.durationMs + ' ms');
		if (e.source)
			meta.push(e.source);
		if (e.correlationId)
			meta.push('cid ' + e.correlationId);
		if (e.signer)
			meta.push('signed by ' + e.signer);
		li.appendChild(el('div', 'meta', meta.join(' · ')));
		const msg = e.message || e.subject;
		if (msg)
			li.appendChild(el('div', 'meta msgline', msg));
		for (const x of (e.errors || []).slice(0, 5))
			li.appendChild(el('div', 'errs', x));
		for (const x of (e.blocked || []).slice(0, 5))
			li.appendChild(el('div', 'meta', 'held: ' + x));
		return li;
	}

	async function loadAudit(id) {
		const r = await api('/audit?count=50&room=' +
		    encodeURIComponent(id));
		if (st.room !== id || !r.ok || !r.body)
			return;
		const ol = $('timeline');
		clear(ol);
		const entries = (r.body.entries || []).slice().reverse();
		for (const e of entries)
			ol.appendChild(auditItem(e));
		if (entries.length === 0)
			ol.appendChild(el('li', 'muted', 'No audit records yet.'));
	}

	const PLAN_LISTS = [
		['toJoin', 'join', 'add', '+'], ['toKick', 'kick', 'del', '−'],
		['toUpdate', 'update', 'mod', '~'], ['toSeed', 'seed', 'add', '+'],
		['toPromote', 'promote', 'mod', '^'],
		['toDeleteArtifacts', 'delete artifact', 'del', '−'],
		['toApply', 'policies', 'mod', '~'],
		['blocked', 'held', 'blk', '!'],
	];

	function itemText(x) {
		if (x === null || typeof x !== 'object')
			return String(x);
		const id = x.id || x.name || x.entityId || x.artifact || '';
		const rest = [];
		for (const k of Object.keys(x)) {
			if (k === 'id' || k === 'name')
				continue;
			const v = x[k];
			rest.push(k + '=' + (typeof v === 'object' ?
			    JSON.stringify(v) : String(v)));
		}
		return (id ? id + '  ' : '') + rest.join('  ');
	}

	async function loadPlan(id) {
		const box = $('plan');
		clear(box);
		box.appendChild(el('div', 'muted', 'Planning…'));
		const r = await api('/plan/' + encodeURIComponent(id));
		if (st.room !== id)
			return;
		clear(box);
		if (!r.ok || !r.body || !r.body.diff) {
			const why = r.body && (r.body.error || (r.body.errors &&
			    r.body.errors.join('; ')));
			box.appendChild(el('div', 'muted', 'No plan: ' +
			    (why || 'HTTP ' + r.status)));
			return;
		}
		let n = 0;
		for (const [k, name, klass, sign] of PLAN_LISTS) {
			const items = r.body.diff[k] || [];
			if (!items.length)
				continue;
			const g = el('div', 'group');
			g.appendChild(el('div', 'gname', name + ' (' +
			    items.length + ')'));
			for (const x of items)
				g.appendChild(el('div', 'line ' + klass, sign + ' ' +
				    itemText(x)));
			box.appendChild(g);
			n += items.length;
		}
		if (n === 0)
			box.appendChild(el('div', 'none',
			    '✓ In sync: the spec and the room agree.'));
		for (const w of r.body.warnings || [])
			box.appendChild(el('div', 'muted', 'warning: ' + w));
	}

	async function loadSpec(id, errors) {
		const box = $('spec');
		const r = await api('/rooms/' + encodeURIComponent(id) + '/spec');
		if (st.room !== id)
			return;
		clear(box);
		$('spec-file').textContent = '';
		if (!r.ok || !r.body || typeof r.body.text !== 'string') {
			box.appendChild(el('div', 'muted l', (r.body &&
			    r.body.error) || 'No spec file for this room.'));
			return;
		}
		$('spec-file').textContent = r.body.file || '';
		const bad = new Set();
		for (const e of (r.body.errors || errors || [])) {
			const m = /:(\d+)(?::\d+)?:/.exec(String(e));
			if (m)
				bad.add(Number(m[1]));
		}
		const lines = r.body.text.split('\n');
		if (lines.length && lines[lines.length - 1] === '')
			lines.pop();
		const frag = document.createDocumentFragment();
		lines.forEach((t, i) => {
			const row = el('div', 'l' + (bad.has(i + 1) ? ' err' : ''));
			row.appendChild(el('span', 'ln', i + 1));
			row.appendChild(el('span', 't', t));
			frag.appendChild(row);
		});
		box.appendChild(frag);
	}

	async function loadRoom(full) {
		const id = st.room;
		const d = await loadRoomStatus(id).catch(() => null);
		if (st.room !== id)
			return;
		const jobs = [loadAudit(id)];
		if (full) {
			jobs.push(loadPlan(id), loadSpec(id, d && d.errors));
		}
		await Promise.all(jobs.map((p) => p.catch(() => null)));
	}

	function scheduleRoom(full, ms) {
		st.roomFull = st.roomFull || full;
		if (st.roomTimer)
			return;
		st.roomTimer = setTimeout(() => {
			const f = st.roomFull;
			st.roomTimer = 0;
			st.roomFull = false;
			if (st.view === 'room')
				loadRoom(f);
		}, ms);
	}

	function showMsg(text, bad) {
		const m = $('act-msg');
		m.textContent = text;
		m.className = 'msg' + (bad ? ' bad' : '');
		m.hidden = false;
	}

	async function act(what) {
		const id = st.room;
		let path;
		if (what === 'reconcile')
			path = '/reconcile/' + encodeURIComponent(id);
		else if (what === 'suspend')
			path = '/rooms/' + encodeURIComponent(id) + '/' +
			    ($('act-suspend').dataset.on ? 'resume' : 'suspend');
		else {
			const rev = $('act-confirm').dataset.rev;
			path = '/rooms/' + encodeURIComponent(id) + '/confirm' +
			    (rev ? '?revision=' + encodeURIComponent(rev) : '');
		}
		let r;
		try {
			r = await api(path, { method: 'POST' });
		} catch (e) {
			showMsg('Request failed: ' + e.message, true);
			return;
		}
		if (r.ok) {
			showMsg(what === 'reconcile' ? 'Reconcile queued.' :
			    what === 'confirm' ? 'Removals confirmed.' :
			    'Done.', false);
			scheduleRoom(what === 'reconcile', 100);
		} else {
			const why = r.body && r.body.error ? r.body.error :
			    'HTTP ' + r.status;
			showMsg('Refused (' + r.status + '): ' + why +
			    (r.status === 401 ? ' — unlock actions with the ' +
			    'API token.' : ''), true);
		}
	}

	/* ---------------------------------------------------------- token */

	function renderToken() {
		const has = token() !== '';
		$('token-state').textContent = has ? 'actions unlocked' :
		    'read-only';
		$('token-btn').textContent = has ? 'Forget token' :
		    'Unlock actions';
		$('token-input').hidden = true;
	}

	function tokenClick() {
		const inp = $('token-input');
		if (token() !== '') {
			sessionStorage.removeItem(TOKEN_KEY);
			renderToken();
			tokenChanged();
			return;
		}
		if (inp.hidden) {
			inp.hidden = false;
			inp.value = '';
			inp.focus();
			$('token-btn').textContent = 'Save';
			return;
		}
		const v = inp.value.trim();
		if (v !== '')
			sessionStorage.setItem(TOKEN_KEY, v);
		inp.value = '';
		renderToken();
		if (v !== '')
			tokenChanged();
	}

	/* ---------------------------------------------------------- live */

	function onRoomEvent(ev) {
		let r;
		/* a full resync sends two events per room: most are for rooms
		 * not on this page, which only need the counts refreshed */
		const m = /^\{"roomId":"([^"\\]*)"/.exec(ev.data);
		if (m && st.view === 'overview' && !st.rows.has(m[1])) {
			schedulePage(150);
			return;
		}
		if (m && st.view === 'room' && m[1] !== st.room)
			return;
		try {
			r = JSON.parse(ev.data);
		} catch (e) {
			return;
		}
		if (!r || typeof r.roomId !== 'string')
			return;
		if (st.view === 'overview') {
			const tr = st.rows.get(r.roomId);
			if (tr && r.status) {
				fillRow(tr, r);
				tr.classList.remove('flash');
				void tr.offsetWidth;
				tr.classList.add('flash');
			}
			schedulePage(tr ? 400 : 150);	/* counts, order */
		} else if (st.view === 'room' && r.roomId === st.room)
			scheduleRoom(false, 100);
	}

	function onAuditEvent(ev) {
		let rec;
		try {
			rec = JSON.parse(ev.data);
		} catch (e) {
			return;
		}
		if (st.view === 'room' && rec && rec.room === st.room)
			scheduleRoom(true, 150);
	}

	/* One Server-Sent Events frame of /events: "event:" and "data:"
	 * lines (a comment line starts with ':'). */
	function dispatch(frame) {
		let ev = 'message';
		const data = [];
		for (const line of frame.split('\n')) {
			if (line === '' || line.startsWith(':'))
				continue;
			const c = line.indexOf(':');
			const f = c < 0 ? line : line.slice(0, c);
			let v = c < 0 ? '' : line.slice(c + 1);
			if (v.startsWith(' '))
				v = v.slice(1);
			if (f === 'event')
				ev = v;
			else if (f === 'data')
				data.push(v);
		}
		if (data.length === 0)
			return;
		const e = { data: data.join('\n') };
		if (ev === 'room')
			onRoomEvent(e);
		else if (ev === 'message')
			onAuditEvent(e);
	}

	/*
	 * /events read with fetch rather than EventSource, which cannot send
	 * an Authorization header: with a read token the stream needs one.
	 * Reconnects after 1 s, doubling to 10 s; a new token reconnects at
	 * once (st.stream aborts the current one).
	 */
	async function connect() {
		const live = $('live');
		let delay = 1000;

		for (;;) {
			const ac = new AbortController();
			st.stream = ac;
			try {
				const h = {};
				const t = token();
				if (t)
					h.Authorization = 'Bearer ' + t;
				const r = await fetch('/events', { headers: h,
				    cache: 'no-store', credentials: 'same-origin',
				    signal: ac.signal });
				if (r.status === 401)
					needToken();
				if (!r.ok || !r.body)
					throw new Error('/events: ' + r.status);
				live.textContent = 'live';
				live.className = 'pill ok';
				delay = 1000;
				if (st.view === 'overview')
					schedulePage(10);
				const rd = r.body.getReader();
				const dec = new TextDecoder();
				let buf = '';
				for (;;) {
					const x = await rd.read();
					if (x.done)
						break;
					buf += dec.decode(x.value, { stream: true });
					let i;
					while ((i = buf.indexOf('\n\n')) >= 0) {
						dispatch(buf.slice(0, i));
						buf = buf.slice(i + 2);
					}
					if (buf.length > SSE_FRAME_MAX)
						buf = '';	/* not ours */
				}
			} catch (e) {
				/* aborted, refused or cut: try again */
			}
			live.textContent = 'reconnecting';
			live.className = 'pill off';
			if (!ac.signal.aborted) {
				await new Promise((res) => setTimeout(res, delay));
				delay = Math.min(delay * 2, 10000);
			}
		}
	}

	/* A new token: read again with it. */
	function tokenChanged() {
		st.needToken = false;
		$('banner').hidden = true;
		if (st.stream)
			st.stream.abort();
		route();
	}

	/* --------------------------------------------------------- routing */

	function route() {
		const h = location.hash || '#/';
		const m = /^#\/room\/(.+)$/.exec(h);
		let id = null;
		try {
			id = m ? decodeURIComponent(m[1]) : null;
		} catch (e) {
			id = null;	/* malformed: the overview */
		}
		if (id !== null) {
			st.view = 'room';
			st.room = id;
			$('overview').hidden = true;
			$('room').hidden = false;
			$('room-id').textContent = st.room;
			$('act-msg').hidden = true;
			clear($('timeline'));
			clear($('room-facts'));
			document.title = st.room + ' · RoomOps';
			loadRoom(true);
		} else {
			st.view = 'overview';
			st.room = null;
			$('room').hidden = true;
			$('overview').hidden = false;
			document.title = 'RoomOps';
			loadPage();
		}
	}

	async function start() {
		const f = $('filter');
		for (const s of STATUSES) {
			const o = el('option', null, LABELS[s] || s);
			o.value = s;
			f.appendChild(o);
		}
		f.addEventListener('change', () => setFilter(f.value));
		let qt = 0;
		$('search').addEventListener('input', (e) => {
			clearTimeout(qt);
			qt = setTimeout(() => {
				st.q = e.target.value.trim();
				st.offset = 0;
				loadPage();
			}, 150);
		});
		$('prev').addEventListener('click', () => {
			st.offset = Math.max(0, st.offset - PAGE);
			loadPage();
		});
		$('next').addEventListener('click', () => {
			if (st.offset + PAGE < st.matched) {
				st.offset += PAGE;
				loadPage();
			}
		});
		$('act-reconcile').addEventListener('click', () => act('reconcile'));
		$('act-suspend').addEventListener('click', () => act('suspend'));
		$('act-confirm').addEventListener('click', () => act('confirm'));
		$('token-btn').addEventListener('click', tokenClick);
		$('token-form').addEventListener('submit', (e) => {
			e.preventDefault();
			tokenClick();
		});
		renderToken();
		try {
			const r = await api('/ui/config.json');
			if (r.ok && r.body && typeof r.body.commitUrl === 'string')
				st.commitUrl = r.body.commitUrl;
		} catch (e) {
			/* no links */
		}
		window.addEventListener('hashchange', route);
		route();
		connect();
		const tick = async () => {
			await Promise.all([loadSource(), loadWebhooks()]);
			for (const td of document.querySelectorAll('td.when'))
				if (td.dataset.ts)
					td.textContent = ago(td.dataset.ts);
		};
		tick();
		setInterval(tick, 5000);
	}

	if (document.readyState === 'loading')
		document.addEventListener('DOMContentLoaded', start);
	else
		start();
})();
