'use strict';
/*
 * harness.js: what the dashboard's browser tests and benchmark share:
 * start roomserver-sim and `roomops agent --watch DIR` on free loopback
 * ports, launch Debian's chromium headless through puppeteer-core (never
 * a downloaded browser), and bounded waits.
 *
 * Environment: RO_BIN, RO_SIM (from CTest), RO_TOOLS_DIR (puppeteer-core
 * installed by scripts/install-test-tools.sh), RO_CHROMIUM (default
 * /usr/bin/chromium).
 */
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const TOOLS = process.env.RO_TOOLS_DIR || '/usr/local/lib/roomops-tools';
const CHROMIUM = process.env.RO_CHROMIUM || '/usr/bin/chromium';
const WAIT_MS = 15000;

function puppeteer() {
	return require(path.join(TOOLS, 'ui', 'node_modules', 'puppeteer-core'));
}

const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

/* Poll fn() until it returns a truthy value, at most ms. */
async function until(what, fn, ms = WAIT_MS, every = 20) {
	const end = Date.now() + ms;
	let last;
	for (;;) {
		try {
			last = await fn();
			if (last)
				return last;
		} catch (e) {
			last = e;
		}
		if (Date.now() > end)
			throw new Error('timed out after ' + ms + ' ms waiting for ' +
			    what + (last instanceof Error ? ': ' + last.message : ''));
		await sleep(every);
	}
}

/* Spawn cmd; resolve with the first stdout match of re (bounded). */
function startProc(cmd, args, re, logFile) {
	return new Promise((resolve, reject) => {
		const log = fs.openSync(logFile, 'a');
		const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', log] });
		let out = '';
		const t = setTimeout(() => {
			p.kill('SIGKILL');
			reject(new Error(cmd + ': no "' + re + '" within ' + WAIT_MS +
			    ' ms; stdout: ' + out));
		}, WAIT_MS);
		p.stdout.on('data', (b) => {
			out += b.toString();
			const m = re.exec(out);
			if (m) {
				clearTimeout(t);
				resolve({ proc: p, match: m });
			}
		});
		p.on('exit', (code) => {
			clearTimeout(t);
			reject(new Error(cmd + ' exited with ' + code +
			    ' before it listened; see ' + logFile));
		});
	});
}

/*
 * A sim and an agent watching a copy of specsDir (or an empty folder).
 * opts: { specs: DIR|null, token: STRING|null, args: [...] }
 */
async function startStack(opts) {
	const root = fs.mkdtempSync(path.join(os.tmpdir(), 'roomops-ui.'));
	const watch = path.join(root, 'specs');
	if (opts.specs)
		fs.cpSync(opts.specs, watch, { recursive: true });
	else
		fs.mkdirSync(watch);
	if (opts.prepare)
		opts.prepare(watch);
	fs.mkdirSync(path.join(root, 'sim'));
	const simBin = process.env.RO_SIM;
	const bin = process.env.RO_BIN;
	const sim = await startProc(simBin, ['--listen', '127.0.0.1:0',
	    '--data-dir', path.join(root, 'sim')],
	    /listening on 127\.0\.0\.1:(\d+)/, path.join(root, 'sim.log'));
	sim.proc.stdout.removeAllListeners('data');
	sim.proc.stdout.resume();
	const args = ['agent', '--listen', '127.0.0.1:0', '--server',
	    'http://127.0.0.1:' + sim.match[1], '--watch', watch,
	    '--state-dir', path.join(root, 'state')];
	if (opts.token) {
		fs.writeFileSync(path.join(root, 'token'), opts.token + '\n',
		    { mode: 0o600 });
		args.push('--api-token-file', path.join(root, 'token'));
	}
	args.push(...(opts.args || []));
	let agent;
	try {
		agent = await startProc(bin, args,
		    /API on http:\/\/127\.0\.0\.1:(\d+)/,
		    path.join(root, 'agent.log'));
	} catch (e) {
		sim.proc.kill('SIGKILL');
		throw e;
	}
	agent.proc.stdout.removeAllListeners('data');
	agent.proc.stdout.resume();
	const url = 'http://127.0.0.1:' + agent.match[1];
	return {
		root, watch, url,
		auditLog: path.join(root, 'state', 'audit.jsonl'),
		agentLog: path.join(root, 'agent.log'),
		async stop() {
			for (const p of [agent.proc, sim.proc]) {
				if (p.exitCode !== null)
					continue;
				const gone = new Promise((res) => p.on('exit', res));
				p.kill('SIGTERM');
				await Promise.race([gone, sleep(10000)]);
				if (p.exitCode === null)
					p.kill('SIGKILL');
			}
			if (!process.env.RO_KEEP)
				fs.rmSync(root, { recursive: true, force: true });
		},
	};
}

async function json(url, init) {
	const r = await fetch(url, Object.assign({ signal:
	    AbortSignal.timeout(WAIT_MS) }, init || {}));
	const t = await r.text();
	let body = null;
	try {
		body = JSON.parse(t);
	} catch (e) {
		body = t;
	}
	return { status: r.status, headers: r.headers, body };
}

async function launch() {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'roomops-chromium.'));
	const browser = await puppeteer().launch({
		executablePath: CHROMIUM,
		headless: true,
		userDataDir: dir,
		timeout: WAIT_MS,
		protocolTimeout: 60000,
		args: ['--headless=new', '--no-sandbox', '--disable-gpu',
		    '--disable-dev-shm-usage', '--no-first-run',
		    '--no-default-browser-check', '--disable-extensions',
		    '--disable-background-networking', '--disable-sync',
		    '--metrics-recording-only', '--mute-audio',
		    '--proxy-server=direct://', '--proxy-bypass-list=*'],
	});
	const close = browser.close.bind(browser);
	browser.close = async () => {
		await Promise.race([close(), sleep(10000)]);
		try {
			browser.process()?.kill('SIGKILL');
		} catch (e) { /* gone */ }
		fs.rmSync(dir, { recursive: true, force: true });
	};
	return browser;
}

/* TAP-ish reporting, and the closing line CTest logs show. */
function reporter() {
	let pass = 0, fail = 0;
	return {
		ok(cond, desc, detail) {
			if (cond) {
				pass++;
				console.log('ok - ' + desc);
			} else {
				fail++;
				console.log('not ok - ' + desc + (detail ? '\n    ' +
				    String(detail).split('\n').join('\n    ') : ''));
			}
			return cond;
		},
		get failed() { return fail; },
		summary() {
			console.log(pass + ' passed, ' + fail + ' failed');
			return fail === 0 ? 0 : 1;
		},
	};
}

module.exports = { puppeteer, until, sleep, startStack, json, launch,
    reporter, WAIT_MS, CHROMIUM, TOOLS };
