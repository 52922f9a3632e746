'use strict';
// The peers' side of the comparison (see bench/README.md, "Peer comparison"); run through ./run.sh.
//   node peer.js check DIR [--jre-findings N]   every engine picks the same rules as ResponseEngine (expected.txt), or exit 1
//   node peer.js time DIR [--jre-findings N]    warm timings, one JSON object per engine on stdout
//   node peer.js report DIR                     the tables: DIR/responseengine.jsonl and DIR/cli.jsonl against DIR/peers.jsonl
// The work is the same for every engine: for each finding, which of the converted rules pick it.
// No I/O in the timed region: facts and rules are parsed and the engines built before the clock starts.
const fs = require('fs');
const path = require('path');
const jsonLogic = require('json-logic-js');
const { Engine } = require('json-rules-engine');

const [mode, dir, ...rest] = process.argv.slice(2);
if (mode === 'report') {
  report(dir);
  process.exit(0);
}
if (!['check', 'time'].includes(mode) || !dir) {
  console.error('usage: node peer.js check|time|report DIR [--jre-findings N] [--passes N]');
  process.exit(2);
}
const option = (name, fallback) => {
  const at = rest.indexOf(name);
  return at >= 0 ? Number(rest[at + 1]) : fallback;
};

const read = (file) => JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
const facts = read('facts.json');
const logicRules = read('rules-json-logic.json');
const jreRules = read('rules-json-rules-engine.json');
const expected = fs.readFileSync(path.join(dir, 'expected.txt'), 'utf8').split('\n');
const ruleIds = fs.readFileSync(path.join(dir, 'rule-ids.txt'), 'utf8').split('\n');
const jreFindings = Math.min(facts.length, option('--jre-findings', facts.length));
const passes = option('--passes', 5);
// Warm-up before timing: the first pass (which also fixes the expected count), then at least this many more passes
// and at least --warm-seconds (V8 optimises the hot functions within the first few thousand findings).
const warmPasses = option('--warm-passes', 2);
const warmSeconds = option('--warm-seconds', 3);

// ---------------------------------------------------------------- json-logic-js: every rule on every finding
function logicPick(fact) {
  const picked = [];
  for (let r = 0; r < logicRules.length; r++) {
    if (jsonLogic.truthy(jsonLogic.apply(logicRules[r], fact))) picked.push(r);
  }
  return picked;
}
function logicPass(list) {
  let picked = 0;
  for (let i = 0; i < list.length; i++) {
    const fact = list[i];
    for (let r = 0; r < logicRules.length; r++) {
      if (jsonLogic.truthy(jsonLogic.apply(logicRules[r], fact))) picked++;
    }
  }
  return picked;
}

// ---------------------------------------------------------------- json-logic-js behind the same type/provider index ResponseEngine has
// Not a peer feature (the caller builds the index); shown so the ratio can be split into "index" and "evaluator".
const index = new Map();
jreRules.forEach((rule, r) => {
  const [types, providers] = rule.conditions.all;
  for (const t of types.value) for (const p of providers.value) {
    const key = t + '\u0000' + p;
    if (!index.has(key)) index.set(key, []);
    index.get(key).push(r);
  }
});
const noRules = [];
function indexedPick(fact) {
  const picked = [];
  for (const r of index.get(fact.type + '\u0000' + fact.provider) || noRules) {
    if (jsonLogic.truthy(jsonLogic.apply(logicRules[r], fact))) picked.push(r);
  }
  return picked;
}
function indexedPass(list) {
  let picked = 0;
  for (let i = 0; i < list.length; i++) {
    const fact = list[i];
    const candidates = index.get(fact.type + '\u0000' + fact.provider) || noRules;
    for (let c = 0; c < candidates.length; c++) {
      if (jsonLogic.truthy(jsonLogic.apply(logicRules[candidates[c]], fact))) picked++;
    }
  }
  return picked;
}

// ---------------------------------------------------------------- json-rules-engine: one engine with every rule, run per finding
const engine = new Engine(jreRules, { allowUndefinedFacts: true });
async function jrePick(fact) {
  const { events } = await engine.run(fact);
  return events.map((e) => e.params.rule).sort((a, b) => a - b);
}
async function jrePass(list) {
  let picked = 0;
  for (let i = 0; i < list.length; i++) {
    const { events } = await engine.run(list[i]);
    picked += events.length;
  }
  return picked;
}

function describe(picked) {
  return picked.length ? picked.map((r) => ruleIds[r]).join(', ') : '(none)';
}

async function check() {
  let failures = 0;
  const compare = async (name, pick, count) => {
    let pairs = 0;
    for (let i = 0; i < count; i++) {
      const got = (await pick(facts[i])).join(',');
      pairs += got ? got.split(',').length : 0;
      if (got !== expected[i]) {
        if (failures++ < 10) {
          const want = expected[i] ? expected[i].split(',').map(Number) : [];
          const have = got ? got.split(',').map(Number) : [];
          console.error(`MISMATCH ${name}, finding ${facts[i].id}: ResponseEngine picks ${describe(want)}; ${name} picks ${describe(have)}`);
        }
      }
    }
    console.error(`check ${name}: ${count.toLocaleString('en')} findings x ${logicRules.length} rules, ${pairs.toLocaleString('en')} picks, ` +
      (failures ? `${failures} findings differ` : 'identical to ResponseEngine'));
  };
  await compare('json-logic-js', logicPick, facts.length);
  await compare('json-logic-js+index', indexedPick, facts.length);
  await compare('json-rules-engine', jrePick, jreFindings);
  if (failures) {
    console.error(`FAILED: ${failures} findings where a peer picks different rules than ResponseEngine`);
    process.exit(1);
  }
}

async function timed(name, pass, list) {
  const expectedPicks = await pass(list);
  const warmStart = process.hrtime.bigint();
  for (let i = 0; i < warmPasses || Number(process.hrtime.bigint() - warmStart) / 1e9 < warmSeconds; i++) await pass(list);
  const times = [];
  const cpuTimes = [];
  for (let i = 0; i < passes; i++) {
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    const picked = await pass(list);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    const used = process.cpuUsage(cpu);
    cpuTimes.push((used.user + used.system) / 1000);
    if (picked !== expectedPicks) throw new Error(`${name}: pass ${i} picked ${picked}, the first ${expectedPicks}`);
  }
  times.sort((a, b) => a - b);
  cpuTimes.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  const cpuMedian = cpuTimes[Math.floor(cpuTimes.length / 2)];
  const pairs = list.length * logicRules.length;
  const result = {
    engine: name,
    findings: list.length,
    rules: logicRules.length,
    picked: expectedPicks,
    passes,
    median_ms: Math.round(median * 1000) / 1000,
    best_ms: Math.round(times[0] * 1000) / 1000,
    pairs_per_second: Math.round(pairs / (median / 1000)),
    cpu_median_ms: Math.round(cpuMedian * 1000) / 1000,
    cpu_pairs_per_second: Math.round(pairs / (Math.max(cpuMedian, 0.001) / 1000)),
    findings_per_second: Math.round(list.length / (median / 1000)),
  };
  console.error(`${name}: ${list.length.toLocaleString('en')} findings x ${logicRules.length} rules in ${median.toFixed(1)} ms median of ${passes} ` +
    `(best ${times[0].toFixed(1)}; process CPU ${cpuMedian.toFixed(1)} ms median), ${(result.pairs_per_second / 1e6).toFixed(2)} M pairs/s, picked ${expectedPicks.toLocaleString('en')}`);
  console.log(JSON.stringify(result));
}

async function time() {
  await timed('json-logic-js', logicPass, facts);
  await timed('json-logic-js+index', indexedPass, facts);
  await timed('json-rules-engine', jrePass, facts.slice(0, jreFindings));
}

(mode === 'check' ? check() : time()).catch((e) => {
  console.error(e);
  process.exit(1);
});

// ---------------------------------------------------------------- the table printed by run.sh
// DIR/responseengine.jsonl: ResponseEngine's rows (evaluator + index, evaluator without index, Planner.Plan);
// DIR/cli.jsonl (when run.sh timed it): the whole CLI, a process reading the findings file and writing the plan;
// DIR/peers.jsonl: the peers, given their facts in memory.
function report(dir) {
  const lines = (file) => (fs.existsSync(path.join(dir, file)) ? fs.readFileSync(path.join(dir, file), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);
  const ours = lines('responseengine.jsonl');
  const cli = lines('cli.jsonl');
  const peers = lines('peers.jsonl');
  const rows = [...ours, ...cli, ...peers];
  const row = (name) => rows.find((r) => r.engine.startsWith(name));
  const fmt = (n, d = 0) => n.toLocaleString('en', { minimumFractionDigits: d, maximumFractionDigits: d });
  const logic = row('json-logic-js');
  const logicIndexed = row('json-logic-js+index');
  const ratio = (a, b, key) => (a && b ? `**${fmt(a[key] / b[key], a[key] / b[key] < 1 ? 2 : 1)}x**` : 'n/a');
  console.log('');
  console.log(`Peer comparison: ${ours[0].rules} rules; throughput = (finding, rule) pairs decided per second = findings x rules / median warm pass`);
  console.log('(wall clock, and process CPU time per pass, which a machine busy with other work disturbs much less)');
  console.log(`node ${process.version}, ${ours[0].runtime}`);
  console.log('');
  console.log('Headline, evaluator to evaluator (CPU time; wall in brackets):');
  console.log('');
  console.log('| comparison | ratio (CPU) | ratio (wall) |');
  console.log('|---|---:|---:|');
  const headline = [
    ['ResponseEngine evaluator, no index vs json-logic-js (every rule on every finding)', row('ResponseEngine evaluator, no index'), logic],
    ['ResponseEngine evaluator + index vs json-logic-js + the same index', row('ResponseEngine evaluator + index'), logicIndexed],
    ['ResponseEngine Planner.Plan (decisions built) vs json-logic-js', row('ResponseEngine Planner.Plan'), logic],
    ['whole CLI (`respond plan`, file in, plan out) vs json-logic-js (facts in memory)', row('respond plan'), logic],
  ];
  for (const [name, a, b] of headline) console.log(`| ${name} | ${ratio(a, b, 'cpu_pairs_per_second')} | ${ratio(a, b, 'pairs_per_second')} |`);
  console.log('');
  console.log('| Engine | findings timed | median pass (wall) | pairs/s (wall) | vs json-logic-js (wall) | median pass (CPU) [min-max] | pairs/s (CPU) | vs json-logic-js (CPU) |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const range = r.cpu_min_ms !== undefined ? ` [${fmt(r.cpu_min_ms, 0)}-${fmt(r.cpu_max_ms, 0)}]` : '';
    console.log(`| ${r.engine} | ${fmt(r.findings)} | ${fmt(r.median_ms, 1)} ms | ${fmt(r.pairs_per_second / 1e6, 2)} M | ${r === logic ? '1x' : ratio(r, logic, 'pairs_per_second')} | ` +
      `${fmt(r.cpu_median_ms, 1)} ms${range} | ${fmt(r.cpu_pairs_per_second / 1e6, 2)} M | ${r === logic ? '1x' : ratio(r, logic, 'cpu_pairs_per_second')} |`);
  }
  console.log('');
}
