#!/usr/bin/env node
/*
 * validate.js: offline, strict JSON-schema validation of Kubernetes
 * manifests (the output of `kubectl kustomize`), for RoomOps tests.
 *
 * Schemas: the npm package kubernetes-models (4.3.x), which carries the
 * Kubernetes OpenAPI definitions (core, apps, policy, ...) converted to
 * JSON Schema, one per type, registered into Ajv by
 * @kubernetes-models/validate. Validator: Ajv 8 as configured by that
 * package (its Kubernetes formats: quantity, int-or-string, byte...).
 *
 * Strict mode (the default) adds "additionalProperties": false to every
 * object schema that lists its properties, exactly as kubeconform
 * -strict and the "-strict" flavour of kubernetes-json-schema do, so a
 * misspelt or misplaced field is an error (kubectl --validate=strict
 * rejects it too). Maps (labels, data, resources.requests...) are
 * "additionalProperties: {schema}" and stay open.
 *
 * A document whose apiVersion/kind has no schema is an error, not a skip.
 *
 * usage: node validate.js --modules DIR [--no-strict] [FILE|-]...
 *   DIR holds the node_modules folder (see scripts/install-test-tools.sh)
 * Prints one line per resource, then "N passed, N failed"; exit 0 when
 * every document is valid, 1 when one is not, 2 on usage or I/O errors.
 */
'use strict';

const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

function usage(msg) {
	process.stderr.write(`validate.js: ${msg}\n` +
	    'usage: node validate.js --modules DIR [--no-strict] [FILE|-]...\n');
	process.exit(2);
}

let modules = null;
let strict = true;
const files = [];
for (let i = 2; i < process.argv.length; i++) {
	const a = process.argv[i];
	if (a === '--modules') {
		if (++i >= process.argv.length)
			usage('--modules needs a directory');
		modules = process.argv[i];
	} else if (a === '--no-strict') {
		strict = false;
	} else if (a.startsWith('--')) {
		usage(`unknown option ${a}`);
	} else {
		files.push(a);
	}
}
if (modules === null)
	usage('--modules DIR is required');
if (!fs.existsSync(path.join(modules, 'node_modules')))
	usage(`${modules}/node_modules missing: run scripts/install-test-tools.sh`);
if (files.length === 0)
	files.push('-');

const req = createRequire(path.join(path.resolve(modules), 'index.js'));
const YAML = req('yaml');
const kmv = req('@kubernetes-models/validate');

/* JSON Schema keywords whose values are schemas, maps or lists of them. */
const SCHEMA_ONE = ['additionalProperties', 'items', 'not', 'if', 'then',
    'else', 'contains', 'propertyNames'];
const SCHEMA_MAP = ['properties', 'patternProperties', 'definitions',
    '$defs', 'dependentSchemas'];
const SCHEMA_LIST = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];

function strictify(node) {
	if (node === null || typeof node !== 'object' || Array.isArray(node))
		return node;
	if (node.properties !== undefined &&
	    node.additionalProperties === undefined &&
	    node['x-kubernetes-preserve-unknown-fields'] !== true)
		node.additionalProperties = false;
	for (const k of SCHEMA_ONE)
		if (node[k] !== undefined && typeof node[k] === 'object')
			strictify(node[k]);
	for (const k of SCHEMA_MAP)
		if (node[k] !== undefined)
			for (const v of Object.values(node[k]))
				strictify(v);
	for (const k of SCHEMA_LIST)
		if (Array.isArray(node[k]))
			node[k].forEach(strictify);
	if (Array.isArray(node.items))
		node.items.forEach(strictify);
	return node;
}

/*
 * Every schema module calls register(id, schema) through the exports
 * object of the one @kubernetes-models/validate instance, before Ajv
 * compiles anything: wrap it once, here, before any schema is loaded.
 */
const register = kmv.register;
kmv.register = (id, schema) =>
	register(id, strict ? strictify(structuredClone(schema)) : schema);

function modelFor(apiVersion, kind) {
	if (typeof apiVersion !== 'string' || typeof kind !== 'string' ||
	    !/^[a-z0-9.-]*\/?v[0-9a-z]+$/.test(apiVersion) ||
	    !/^[A-Z][A-Za-z0-9]*$/.test(kind))
		return null;
	try {
		const m = req(`kubernetes-models/${apiVersion}/${kind}`);
		const cls = m[kind];
		if (cls && cls.apiVersion === apiVersion && cls.kind === kind)
			return cls;
	} catch (e) {
		if (e.code !== 'MODULE_NOT_FOUND' &&
		    e.code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED')
			throw e;
	}
	return null;
}

function describe(err) {
	const where = err.instancePath || '/';
	if (err.keyword === 'additionalProperties')
		return `${where}: unknown field "${err.params.additionalProperty}"`;
	return `${where}: ${err.message}`;
}

let passed = 0, failed = 0;

function check(name, text) {
	const docs = YAML.parseAllDocuments(text, { prettyErrors: true });
	let n = 0;
	for (const doc of docs) {
		n++;
		if (doc.errors.length > 0) {
			failed++;
			for (const e of doc.errors)
				console.log(`FAIL ${name} document ${n}: YAML: ${e.message}`);
			continue;
		}
		const obj = doc.toJS();
		if (obj === null || obj === undefined)
			continue;		/* an empty document */
		const id = `${obj.kind}/${obj.metadata && obj.metadata.name}`;
		const cls = modelFor(obj.apiVersion, obj.kind);
		if (cls === null) {
			failed++;
			console.log(`FAIL ${name} ${id}: no schema for ` +
			    `apiVersion "${obj.apiVersion}" kind "${obj.kind}"`);
			continue;
		}
		try {
			new cls(obj).validate();
		} catch (e) {
			if (!Array.isArray(e.errors))
				throw e;
			failed++;
			const seen = new Set();
			for (const err of e.errors) {
				const line = describe(err);
				if (!seen.has(line)) {
					seen.add(line);
					console.log(`FAIL ${name} ${id}: ${line}`);
				}
			}
			continue;
		}
		passed++;
		console.log(`PASS ${name} ${id}`);
	}
}

for (const f of files) {
	let text;
	try {
		text = fs.readFileSync(f === '-' ? 0 : f, 'utf8');
	} catch (e) {
		process.stderr.write(`validate.js: ${f}: ${e.message}\n`);
		process.exit(2);
	}
	check(f === '-' ? 'stdin' : f, text);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
