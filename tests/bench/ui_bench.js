'use strict';
/*
 * ui_bench.js: the dashboard's two figures (docs/performance.md
 * "Dashboard") in headless chromium, at each fleet size given:
 *
 *  - first rows: from navigation start to the first rows of the overview
 *    in the page (the page's own performance mark "ro-first-rows"), on a
 *    fresh page each run;
 *  - event to row: from a change made through the API (POST
 *    /rooms/{id}/suspend, sent from the page; each run another room of
 *    the page, as resume would also resync every room) to the row
 *    showing it (a MutationObserver on the row): the request, the agent's
 *    "room" event on /events, and the page's update, end to end.
 *
 *   node ui_bench.js [--sizes 10,10000] [--runs N] [--events N] [--json]
 *
 * Each size gets its own roomserver-sim and agent watching a generated
 * folder (100 rooms per subfolder); timing starts once every room has
 * converged. Prints one JSON object per size with --json, else a table.
 */
const fs = require('fs');
const path = require('path');
const h = require('../ui/harness');

function arg(name, def) {
	const i = process.argv.indexOf('--' + name);
	return i > 0 ? process.argv[i + 1] : def;
}
const sizes = arg('sizes', '10,10000').split(',').map(Number);
const runs = Number(arg('runs', '7'));
const events = Math.min(100, Number(arg('events', '40')));	/* a page */
const asJson = process.argv.includes('--json');
const TOKEN = 'bench-token';

function generate(dir, n) {
	for (let i = 0; i < n; i++) {
		const sub = path.join(dir, 'g' + String(Math.floor(i / 100))
		    .padStart(3, '0'));
		if (i % 100 === 0)
			fs.mkdirSync(sub, { recursive: true });
		const id = 'room-bench-' + String(i).padStart(6, '0');
		fs.writeFileSync(path.join(sub, id + '.yaml'), [
			'metadata:', '  name: ' + id, '  version: 1', 'spec:',
			'  roomId: ' + id, '  entities:',
			'    - id: E-bot', '      kind: agent',
			'      displayName: Bench Bot ' + i, ''].join('\n'));
	}
}

function pct(v, p) {
	const s = v.slice().sort((a, b) => a - b);
	return s[Math.min(s.length - 1, Math.ceil(p / 100 * s.length) - 1)];
}

function stats(v) {
	return { n: v.length, p50: +pct(v, 50).toFixed(1),
	    p95: +pct(v, 95).toFixed(1), max: +Math.max(...v).toFixed(1) };
}

async function measure(n) {
	const stack = await h.startStack({ specs: null, token: TOKEN,
	    prepare: (dir) => generate(dir, n),
	    args: ['--profile', 'test', '--concurrency', '16'] });
	let browser = null;
	try {
		const t0 = Date.now();
		await h.until(n + ' rooms converged', async () => {
			const r = await h.json(stack.url +
			    '/status/rooms?limit=0');
			return r.body.counts && r.body.counts.converged === n;
		}, 600000, 250);
		const settle = Date.now() - t0;
		browser = await h.launch();
		const first = [];
		for (let i = 0; i < runs; i++) {
			const page = await browser.newPage();
			await page.setCacheEnabled(i > 0);	/* run 0: cold */
			await page.setViewport({ width: 1360, height: 900 });
			await page.goto(stack.url + '/ui', { waitUntil: 'load' });
			const ms = await h.until('first rows', () => page.evaluate(
			    () => {
				    const m = performance.getEntriesByName(
					'ro-first-rows');
				    return m.length ? m[0].startTime : null;
			    }));
			first.push(ms);
			if (i < runs - 1)
				await page.close();
		}
		const pages = await browser.pages();
		const page = pages[pages.length - 1];
		const rows = await page.$$eval('tr.room-row', (r) => r.length);
		const nodes = await page.evaluate(() =>
		    document.getElementsByTagName('*').length);
		/* the live stream is open */
		await h.until('live', () => page.$eval('#live', (e) =>
		    e.textContent === 'live'));
		const suspendOne = (k) => page.evaluate(async (tok, kk) => {
			const trs = document.querySelectorAll('tr.room-row');
			const tr = trs[kk % trs.length];
			const id = tr.dataset.room;
			if (tr.querySelector('.badge.suspended') !== null)
				return null;
			const seen = () => {
				const r = document.querySelector(
				    'tr[data-room="' + id + '"]');
				return r && r.querySelector('.badge.suspended') !== null;
			};
			const done = new Promise((res) => {
				const mo = new MutationObserver(() => {
					if (seen()) {
						mo.disconnect();
						res(performance.now());
					}
				});
				mo.observe(document.getElementById('rows'),
				    { childList: true, subtree: true });
				setTimeout(() => {
					mo.disconnect();
					res(null);
				}, 10000);
			});
			const t = performance.now();
			await fetch('/rooms/' + id + '/suspend', { method: 'POST',
			    headers: { Authorization: 'Bearer ' + tok } });
			const end = await done;
			return end === null ? null : end - t;
		}, TOKEN, k);
		const quiet = Math.min(events, Math.floor(rows / 2));
		const lat = [];
		for (let i = 0; i < quiet; i++) {
			const ms = await suspendOne(i);
			if (ms === null)
				throw new Error('a row did not change within 10 s');
			lat.push(ms);
		}
		/* the same during a full resync: every room sends "applying"
		 * then its outcome (2 events a room) */
		const busy = [];
		const rs = await h.json(stack.url + '/reconcile', { method: 'POST',
		    headers: { Authorization: 'Bearer ' + TOKEN } });
		if (rs.status !== 200 && rs.status !== 202)
			throw new Error('POST /reconcile: ' + rs.status);
		for (let i = quiet; i < Math.min(rows, quiet + 20); i++) {
			const ms = await suspendOne(i);
			if (ms === null)
				throw new Error('a row did not change within 10 s ' +
				    'during the resync');
			busy.push(ms);
		}
		const live = await page.$eval('#live', (e) => e.textContent);
		return { rooms: n, settle_ms: settle, first_rows_ms: stats(first),
		    first_rows_cold_ms: +first[0].toFixed(1),
		    event_to_row_ms: stats(lat),
		    event_to_row_resync_ms: stats(busy), live_after: live,
		    rows_in_page: rows,
		    dom_elements: nodes };
	} finally {
		if (browser)
			await browser.close();
		await stack.stop();
	}
}

async function main() {
	const out = [];
	for (const n of sizes)
		out.push(await measure(n));
	if (asJson) {
		for (const o of out)
			console.log(JSON.stringify(o));
		return;
	}
	console.log('| rooms | first rows p50 / p95 / cold (ms) | ' +
	    'event to row p50 / p95 / max (ms) | during a full resync ' +
	    'p50 / p95 / max (ms) | rows in page | DOM elements |');
	console.log('|---|---|---|---|---|---|');
	for (const o of out)
		console.log('| ' + o.rooms + ' | ' + o.first_rows_ms.p50 + ' / ' +
		    o.first_rows_ms.p95 + ' / ' + o.first_rows_cold_ms + ' | ' +
		    o.event_to_row_ms.p50 + ' / ' + o.event_to_row_ms.p95 +
		    ' / ' + o.event_to_row_ms.max + ' | ' +
		    o.event_to_row_resync_ms.p50 + ' / ' +
		    o.event_to_row_resync_ms.p95 + ' / ' +
		    o.event_to_row_resync_ms.max + ' | ' + o.rows_in_page +
		    ' | ' + o.dom_elements + ' |');
}

main().then(() => process.exit(0), (e) => {
	console.error(e.stack || String(e));
	process.exit(1);
});
