'use strict';
/*
 * ui_readtoken_test.js: the dashboard of an agent that asks a token for
 * reads (--api-read-token-file), in a real browser (Debian's chromium,
 * headless, puppeteer-core). Run by tests/integration/test_ui_readtoken.sh.
 *
 *   node ui_readtoken_test.js SPECS_DIR
 *
 * Covers: the data endpoints refuse a missing token (401) while the page's
 * own files, /health, /ready and /metrics stay open; the page says it
 * needs a token and shows no room until one is given; with the read token
 * it lists the rooms, and the live stream (/events, read with the token
 * in a header) updates a row when its spec is saved, without a reload.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const h = require('./harness');

const READ = 'ui-read-token-' + process.pid;
const SAMPLE = ['room-ai-lab-01', 'room-game-tavern', 'room-ops-oncall',
    'room-support-desk'];

const specsDir = process.argv[2];
const t = h.reporter();

function rowOf(page, id) {
	return page.evaluate((rid) => {
		const tr = document.querySelector('tr[data-room="' + rid + '"]');
		return tr ? { status: tr.dataset.status, rev:
		    tr.querySelector('td.rev').textContent } : null;
	}, id);
}

async function main() {
	const tdir = fs.mkdtempSync(path.join(os.tmpdir(), 'roomops-rt.'));
	const tfile = path.join(tdir, 'read-token');
	fs.writeFileSync(tfile, READ + '\n', { mode: 0o600 });
	const stack = await h.startStack({ specs: specsDir,
	    token: 'ui-api-token-' + process.pid,
	    args: ['--api-read-token-file', tfile, '--debounce', '20ms'] });
	let browser = null;
	const errors = [];
	try {
		/* 1. over HTTP */
		const closed = ['/status', '/status/rooms?limit=1',
		    '/status/rooms/room-ai-lab-01', '/audit',
		    '/rooms/room-ai-lab-01/spec', '/plan/room-ai-lab-01'];
		const refused = [];
		for (const p of closed) {
			const r = await h.json(stack.url + p);
			if (r.status !== 401)
				refused.push(p + ': ' + r.status);
		}
		t.ok(refused.length === 0, 'the data endpoints want the token ' +
		    '(401 without)', refused.join(', '));
		const ev = await fetch(stack.url + '/events', { signal:
		    AbortSignal.timeout(h.WAIT_MS) });
		t.ok(ev.status === 401, '/events wants the token', ev.status);
		const open = [];
		for (const p of ['/ui', '/ui/app.js', '/health', '/metrics']) {
			const r = await fetch(stack.url + p, { signal:
			    AbortSignal.timeout(h.WAIT_MS) });
			await r.arrayBuffer();
			if (r.status !== 200)
				open.push(p + ': ' + r.status);
		}
		t.ok(open.length === 0, 'the page, /health and /metrics stay ' +
		    'open', open.join(', '));
		const ok = await h.json(stack.url + '/status', { headers:
		    { Authorization: 'Bearer ' + READ } });
		t.ok(ok.status === 200, '/status with the read token', ok.status);

		/* 2. in the browser: no rooms until the token is given */
		browser = await h.launch();
		const page = await browser.newPage();
		page.on('pageerror', (e) => errors.push(String(e)));
		page.setDefaultTimeout(h.WAIT_MS);
		await page.goto(stack.url + '/ui', { waitUntil: 'load' });
		await h.until('the token banner', () => page.$eval('#banner',
		    (b) => !b.hidden && /token/.test(b.textContent)));
		const early = await page.$$eval('tr[data-room]', (r) => r.length);
		const field = await page.$eval('#token-input', (i) => !i.hidden);
		t.ok(early === 0 && field, 'the page asks for a token and shows ' +
		    'no room', JSON.stringify({ early, field }));
		await page.type('#token-input', READ);
		await page.click('#token-btn');
		await h.until('the sample rooms', async () => {
			for (const id of SAMPLE) {
				const r = await rowOf(page, id);
				if (!r || r.status !== 'converged')
					return false;
			}
			return true;
		});
		t.ok(true, 'with the read token the rooms are listed');
		const banner = await page.$eval('#banner', (b) => b.hidden);
		t.ok(banner, 'the banner is gone');

		/* 3. live, through /events with the token in a header */
		await h.until('the live stream', () => page.$eval('#live',
		    (l) => l.textContent === 'live'));
		await page.evaluate(() => {
			window.__noReload = 7;
		});
		const before = (await rowOf(page, 'room-ops-oncall')).rev;
		const file = path.join(stack.watch, 'ops-oncall.yaml');
		const s = fs.readFileSync(file, 'utf8');
		if (!s.includes('displayName: On-call engineer'))
			throw new Error(file + ': no display name to change');
		fs.writeFileSync(file + '.tmp~', s.split('displayName: ' +
		    'On-call engineer').join('displayName: On-call lead'));
		fs.renameSync(file + '.tmp~', file);
		await h.until('the row of the saved spec', async () => {
			const r = await rowOf(page, 'room-ops-oncall');
			return r && r.rev !== before && r.status === 'converged';
		});
		const same = await page.evaluate(() => window.__noReload === 7);
		t.ok(same, 'saving a spec updated the row without a reload');
		t.ok(errors.length === 0, 'no script error in the page',
		    errors.join('\n'));
	} catch (e) {
		t.ok(false, 'the browser test ran to its end', e.stack);
		try {
			console.log(fs.readFileSync(stack.agentLog, 'utf8')
			    .split('\n').slice(-40).join('\n'));
		} catch (e2) { /* no log */ }
	} finally {
		if (browser)
			await browser.close();
		await stack.stop();
		fs.rmSync(tdir, { recursive: true, force: true });
	}
	process.exit(t.summary());
}

main();
