'use strict';
/*
 * ui_test.js: the dashboard in a real browser (Debian's chromium,
 * headless, driven by puppeteer-core), against roomserver-sim and an
 * agent watching a copy of specs/. Run by tests/integration/test_ui.sh.
 *
 *   node ui_test.js SPECS_DIR [--screenshots DIR]
 *
 * Covers: the static files and their security headers; the overview lists
 * the sample rooms; saving a spec updates its row without a reload; a
 * rejected spec shows its file:line error; reconcile, suspend/resume and
 * confirm work with the API token and are refused without it; values
 * carrying HTML or javascript: stay inert text.
 */
const fs = require('fs');
const path = require('path');
const h = require('./harness');

const TOKEN = 'ui-test-token-' + process.pid;
const SHA = 'c0ffee00d15ea5e0123456789abcdef012345678';
const COMMIT_URL = 'https://git.example/org/rooms/commit/{sha}';
const SAMPLE = ['room-ai-lab-01', 'room-game-tavern', 'room-ops-oncall',
    'room-support-desk'];

const specsDir = process.argv[2];
const shotIdx = process.argv.indexOf('--screenshots');
const shots = shotIdx > 0 ? process.argv[shotIdx + 1] : null;
const t = h.reporter();

/* The row of a room as the page shows it, or null. */
function rowOf(page, id) {
	return page.evaluate((rid) => {
		const tr = document.querySelector('tr[data-room="' + rid + '"]');
		if (!tr)
			return null;
		return { status: tr.dataset.status,
		    text: tr.textContent,
		    rev: tr.querySelector('td.rev').textContent,
		    suspended: tr.querySelector('.badge.suspended') !== null };
	}, id);
}

async function status(stack, id) {
	const r = await h.json(stack.url + '/status/rooms/' + id);
	return r.body;
}

function edit(file, from, to) {
	const s = fs.readFileSync(file, 'utf8');
	if (!s.includes(from))
		throw new Error(file + ': no "' + from + '"');
	/* write a temp file and rename, as editors do */
	fs.writeFileSync(file + '.tmp~', s.split(from).join(to));
	fs.renameSync(file + '.tmp~', file);
}

async function msgText(page) {
	await h.until('an action message', () => page.$eval('#act-msg',
	    (m) => !m.hidden && m.textContent !== ''));
	return page.$eval('#act-msg', (m) => m.textContent);
}

async function clickAction(page, id) {
	await page.$eval('#act-msg', (m) => {
		m.hidden = true;
		m.textContent = '';
	});
	await page.click(id);
	return msgText(page);
}

async function unlock(page, token) {
	await page.click('#token-btn');
	await page.waitForSelector('#token-input:not([hidden])',
	    { timeout: h.WAIT_MS });
	await page.type('#token-input', token);
	await page.click('#token-btn');
	await h.until('the token kept', () => page.evaluate(() =>
	    document.getElementById('token-state').textContent ===
	    'actions unlocked'));
}

async function openRoom(page, id) {
	await page.evaluate((rid) => {
		location.hash = '#/room/' + rid;
	}, id);
	await h.until('the room page of ' + id, () => page.evaluate((rid) =>
	    !document.getElementById('room').hidden &&
	    document.getElementById('room-id').textContent === rid &&
	    document.getElementById('room-facts').childElementCount > 0, id));
}

async function httpChecks(stack) {
	const ui = await fetch(stack.url + '/ui');
	const csp = ui.headers.get('content-security-policy') || '';
	t.ok(ui.status === 200 && /text\/html/.test(ui.headers.get(
	    'content-type')), 'GET /ui serves the page');
	t.ok(csp.includes("default-src 'none'") && csp.includes(
	    "script-src 'self'") && !csp.includes('unsafe') &&
	    csp.includes("frame-ancestors 'none'"),
	    'the page carries a strict Content-Security-Policy', csp);
	t.ok(ui.headers.get('x-content-type-options') === 'nosniff' &&
	    ui.headers.get('referrer-policy') === 'no-referrer',
	    'nosniff and no-referrer');
	const html = await ui.text();
	t.ok(!/<script>|<style>|\sstyle=|\son[a-z]+=|https?:\/\//i.test(html),
	    'the page has no inline script or style and no outside URL');
	const etag = ui.headers.get('etag');
	const again = await fetch(stack.url + '/ui/', { headers:
	    { 'If-None-Match': etag } });
	t.ok(etag && again.status === 304, 'a known ETag is answered 304');
	const js = await fetch(stack.url + '/ui/app.js');
	const jsText = await js.text();
	t.ok(js.status === 200 && /javascript/.test(js.headers.get(
	    'content-type')) && !/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/.test(jsText),
	    'app.js is served and never parses HTML from strings');
	const miss = await fetch(stack.url + '/ui/nope.js');
	t.ok(miss.status === 404, 'an unknown dashboard file is 404');
	let r = await h.json(stack.url + '/status/rooms?limit=x');
	t.ok(r.status === 400, 'a malformed page size is refused (400)');
	r = await h.json(stack.url + '/status/rooms?status=bogus');
	t.ok(r.status === 400, 'an unknown status filter is refused (400)');
	r = await h.json(stack.url + '/ui/config.json');
	t.ok(r.status === 200 && r.body.commitUrl === COMMIT_URL,
	    'the commit URL template reaches the page');
}

async function main() {
	const stack = await h.startStack({ specs: specsDir, token: TOKEN,
	    args: ['--ui-commit-url', COMMIT_URL, '--debounce', '20ms',
		'--change-threshold', '0.2'] });
	let browser = null;
	const dialogs = [];
	const errors = [];
	try {
		await httpChecks(stack);
		browser = await h.launch();
		const page = await browser.newPage();
		await page.setViewport({ width: 1360, height: 900 });
		page.on('dialog', async (d) => {
			dialogs.push(d.message());
			await d.dismiss();
		});
		page.on('pageerror', (e) => errors.push(String(e)));
		page.setDefaultTimeout(h.WAIT_MS);
		await page.goto(stack.url + '/ui', { waitUntil: 'load' });

		/* 1. the overview lists the sample rooms */
		await h.until('the sample rooms converged', async () => {
			for (const id of SAMPLE) {
				const r = await rowOf(page, id);
				if (!r || r.status !== 'converged')
					return false;
			}
			return true;
		});
		t.ok(true, 'the overview lists the ' + SAMPLE.length +
		    ' sample rooms, converged');
		const counts = await page.$eval('#counts', (c) => c.textContent);
		t.ok(/4\s*all rooms/.test(counts) && /4\s*converged/.test(counts),
		    'the counts at the top', counts);
		let src = '';
		try {
			await h.until('the source panel', async () => {
				src = await page.$eval('#source', (c) =>
				    c.textContent);
				return src.includes(stack.watch) &&
				    /queue depth/.test(src);
			});
		} catch (e) { /* reported below */ }
		t.ok(src.includes(stack.watch) && /queue depth/.test(src),
		    'the source panel names the watched folder', src);
		await page.evaluate(() => {
			window.__noReload = 42;
		});

		/* search and filter, answered by the server's paged list */
		const shown = () => page.$$eval('tr.room-row', (rs) =>
		    rs.map((r) => r.dataset.room).join(','));
		await page.type('#search', 'ONCALL');
		await h.until('the search applied', async () =>
		    (await shown()) === 'room-ops-oncall');
		await page.$eval('#search', (i) => {
			i.value = '';
			i.dispatchEvent(new Event('input'));
		});
		await h.until('the search cleared', async () =>
		    (await shown()).split(',').length === SAMPLE.length);
		await page.select('#filter', 'failed');
		await h.until('the filter applied', () => page.evaluate(() =>
		    document.querySelectorAll('tr.room-row').length === 0 &&
		    !document.getElementById('empty').hidden));
		await page.select('#filter', '');
		await h.until('the filter cleared', async () =>
		    (await shown()).split(',').length === SAMPLE.length);
		t.ok(true, 'search and the status filter narrow the list');

		/* 2. saving a spec updates its row without a reload */
		const before = await rowOf(page, 'room-ops-oncall');
		edit(path.join(stack.watch, 'ops-oncall.yaml'),
		    'displayName: On-call engineer', 'displayName: On-call SRE');
		await h.until('the saved spec in its row', async () => {
			const r = await rowOf(page, 'room-ops-oncall');
			return r && r.rev !== before.rev && r.status === 'converged';
		});
		t.ok(await page.evaluate(() => window.__noReload === 42),
		    'saving a spec updated the row without a reload');

		/* 3. a rejected spec shows its file:line error */
		edit(path.join(stack.watch, 'game-world.yaml'),
		    '    - id: E-npc-bard', '    - idd: E-npc-bard');
		await h.until('the rejected row', async () => {
			const r = await rowOf(page, 'room-game-tavern');
			return r && r.status === 'rejected';
		});
		t.ok(true, 'the rejected spec turns its row "rejected"');
		await page.click('tr[data-room="room-game-tavern"] td.room a');
		await h.until('the error on the room page', () => page.evaluate(
		    () => document.getElementById('room-error-list').textContent
		    .includes('game-world.yaml:22:7:')));
		const errLine = await h.until('the error line marked', () =>
		    page.evaluate(() => {
			    const l = document.querySelector('#spec .l.err');
			    return l ? l.textContent : null;
		    }));
		t.ok(/^22\s*- idd: E-npc-bard/.test(errLine.trim()),
		    'the room page shows game-world.yaml:22:7 and marks line 22',
		    errLine);
		const plan = await h.until('the plan answer', () => page.$eval(
		    '#plan', (p) => p.textContent.startsWith('Planning') ? null :
		    p.textContent));
		t.ok(/No plan: .*game-world\.yaml:22:7/.test(plan),
		    'the plan of a rejected spec names the error', plan);

		/* 4. actions: refused without the token, done with it */
		await openRoom(page, 'room-ai-lab-01');
		let m = await clickAction(page, '#act-suspend');
		t.ok(/^Refused \(401\)/.test(m) &&
		    !(await status(stack, 'room-ai-lab-01')).suspended,
		    'suspend without the token is refused and shown', m);
		await unlock(page, TOKEN);
		const store = await page.evaluate(() => ({
			s: sessionStorage.getItem('roomops.apiToken'),
			l: localStorage.length }));
		t.ok(store.s === TOKEN && store.l === 0,
		    'the token is kept in sessionStorage (this tab) only');
		m = await clickAction(page, '#act-suspend');
		await h.until('the suspended badge', () => page.$eval(
		    '#room-susp', (b) => !b.hidden));
		t.ok(m === 'Done.' && (await status(stack,
		    'room-ai-lab-01')).suspended, 'suspend with the token', m);
		await h.until('the Resume button', () => page.$eval(
		    '#act-suspend', (b) => b.textContent === 'Resume'));
		m = await clickAction(page, '#act-suspend');
		await h.until('resumed', async () => !(await status(stack,
		    'room-ai-lab-01')).suspended);
		t.ok(m === 'Done.', 'resume with the token', m);
		m = await clickAction(page, '#act-reconcile');
		t.ok(m === 'Reconcile queued.', 'reconcile now with the token', m);

		/* 5. held removals: confirmed from the page */
		const sd = path.join(stack.watch, 'support-desk.yaml');
		const orig = fs.readFileSync(sd, 'utf8');
		const cut = orig.replace(/    - id: E-alex[\s\S]*?(?=  artifacts:)/,
		    '');
		if (cut === orig)
			throw new Error('support-desk.yaml: no E-alex/E-sam block');
		fs.writeFileSync(sd + '.tmp~', cut);
		fs.renameSync(sd + '.tmp~', sd);
		await h.until('the room held for confirmation', async () =>
		    (await status(stack, 'room-support-desk')).status === 'held');
		await page.evaluate(() => {
			location.hash = '#/';
		});
		await h.until('the held row', async () => {
			const r = await rowOf(page, 'room-support-desk');
			return r && r.status === 'held';
		});
		t.ok(true, 'removals over the threshold: the row shows "held"');
		if (shots) {
			fs.mkdirSync(shots, { recursive: true });
			await h.sleep(1200);	/* the flash fades */
			await page.screenshot({ path: path.join(shots,
			    'ui-overview.png') });
		}
		await openRoom(page, 'room-support-desk');
		await h.until('the held list and the plan', () => page.evaluate(
		    () => !document.getElementById('room-blocked').hidden &&
		    document.querySelector('#plan .line.blk') !== null));
		if (shots) {
			await h.sleep(300);
			await page.screenshot({ path: path.join(shots,
			    'ui-room.png'), fullPage: true });
		}
		await page.click('#token-btn');		/* forget the token */
		m = await clickAction(page, '#act-confirm');
		t.ok(/^Refused \(401\)/.test(m),
		    'confirm without the token is refused and shown', m);
		t.ok((await status(stack, 'room-support-desk')).status === 'held',
		    'the room stays held');
		await unlock(page, TOKEN);
		m = await clickAction(page, '#act-confirm');
		await h.until('the confirmed removals applied', async () =>
		    (await status(stack, 'room-support-desk')).status ===
		    'converged');
		await h.until('the page shows it converged', () => page.$eval(
		    '#room-status', (b) => b.textContent === 'converged'));
		t.ok(m === 'Removals confirmed.',
		    'confirm held removals with the token', m);

		/* 6. hostile values stay text */
		fs.writeFileSync(path.join(stack.watch, 'xss.yaml'), [
			'metadata:',
			'  name: "<script>window.__xss = 1</script>"',
			'  version: 1',
			'spec:',
			'  roomId: room-xss-check',
			'  entities:',
			'    - id: E-img',
			'      kind: human',
			'      displayName: "<img src=x onerror=\\"window.__xss=2;alert(2)\\">"',
			'    - id: E-js',
			'      kind: human',
			'      displayName: "javascript:window.__xss=3"',
			''].join('\n'));
		await h.until('the hostile room converged', async () => {
			const s = await status(stack, 'room-xss-check');
			return s && s.status === 'converged';
		});
		const rec = (rev, extra) => JSON.stringify(Object.assign({
			ts: new Date().toISOString(),
			id: '00000000-0000-4000-8000-00000000000' + extra.n,
			correlationId: '<b>cid</b>',
			room: 'room-xss-check', rev: rev, source: 'git',
			outcome: 'applied', diff: { join: 1 }, errors: [],
			warnings: [], durationMs: 1, agent: 'test', shard: '0/1',
		}, extra.f)) + '\n';
		fs.appendFileSync(stack.auditLog, rec(SHA, { n: 1, f: {
			message: 'javascript:window.__xss=4',
			signer: '<img src=x onerror=window.__xss=5>',
			errors: ['<script>window.__xss=6</script>'] } }));
		fs.appendFileSync(stack.auditLog, rec('javascript:alert(7)',
		    { n: 2, f: {} }));
		await openRoom(page, 'room-xss-check');
		await h.until('the hostile audit records shown', () =>
		    page.evaluate(() => {
			    const tl = document.getElementById('timeline');
			    return tl.textContent.includes('javascript:window.__xss=4')
				&& tl.textContent.includes('javascript:alert(7)');
		    }));
		await h.until('the hostile spec shown', () => page.evaluate(() =>
		    document.getElementById('spec').textContent.includes(
		    'displayName: "<img src=x onerror=')));
		await h.sleep(300);
		const probe = await page.evaluate((sha) => ({
			xss: window.__xss,
			imgs: document.querySelectorAll('img').length,
			scripts: document.querySelectorAll('script').length,
			bad: [...document.querySelectorAll('a[href]')].filter(
			    (a) => !/^(https?:|#)/.test(a.getAttribute('href')) ||
			    /^javascript:/i.test(a.href)).length,
			link: [...document.querySelectorAll('#timeline a')].map(
			    (a) => a.href),
			signer: document.getElementById('timeline').textContent
			    .includes('signed by <img src=x onerror=window.__xss=5>'),
			err: document.getElementById('timeline').textContent
			    .includes('<script>window.__xss=6</script>'),
		}), SHA);
		t.ok(probe.xss === undefined && dialogs.length === 0,
		    'no injected script ran (no flag, no dialog)',
		    JSON.stringify({ probe, dialogs }));
		t.ok(probe.imgs === 0 && probe.scripts === 1,
		    'no element was created from a value (no img, one script)',
		    JSON.stringify(probe));
		t.ok(probe.signer && probe.err,
		    'hostile signer and error are shown literally');
		t.ok(probe.bad === 0 && probe.link.length === 1 &&
		    probe.link[0] === COMMIT_URL.replace('{sha}', SHA),
		    'links: only the commit template with a hex sha; a ' +
		    'javascript: revision is not a link', JSON.stringify(probe));
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
	}
	process.exit(t.summary());
}

main();
