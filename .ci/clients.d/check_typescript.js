// Exercises the discriminated unions of the generated typescript-fetch client, compiled to
// CommonJS:
//
//   node check_typescript.js COMPILED/models/index.js SAMPLES.json
//
// For every union of SAMPLES.json (from discriminator_samples.py) and each mapping value, the
// union's FromJSON must pick the member (its parser turns date-times into Dates, its
// instanceOf check holds) and ToJSON must write the tag back. Exits 1 on any problem.
'use strict';

const models = require(process.argv[2]);
const samples = require(process.argv[3]);

const camel = (s) => s.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
let problems = 0;
for (const [union, cases] of Object.entries(samples)) {
  const fromJSON = models[`${union}FromJSON`];
  const toJSON = models[`${union}ToJSON`];
  if (typeof fromJSON !== 'function' || typeof toJSON !== 'function') {
    console.error(`  problem: models has no ${union}FromJSON/${union}ToJSON`);
    problems++;
    continue;
  }
  let property = '';
  for (const [value, { schema, sample, property: prop }] of Object.entries(cases)) {
    property = prop;
    const found = [];
    try {
      const parsed = fromJSON(sample);
      if (parsed[camel(prop)] !== value) found.push(`${camel(prop)} is ${JSON.stringify(parsed[camel(prop)])}`);
      const isMember = models[`instanceOf${schema}`];
      if (typeof isMember !== 'function') found.push(`no instanceOf${schema}`);
      else if (!isMember(parsed)) found.push(`instanceOf${schema} is false`);
      for (const [key, raw] of Object.entries(sample)) {
        if (typeof raw === 'string' && /^\d{4}-\d\d-\d\dT/.test(raw) && !(parsed[camel(key)] instanceof Date)) {
          found.push(`${camel(key)} is not a Date (the member's parser was not applied)`);
        }
      }
      const back = toJSON(parsed);
      if (back[prop] !== value) found.push(`ToJSON wrote ${prop}=${JSON.stringify(back[prop])}`);
    } catch (e) {
      found.push(`threw ${e}`);
    }
    if (found.length) {
      console.error(`  problem: ${union} ${prop}=${value} (${schema}): ${found.join('; ')}`);
      problems++;
    }
  }
  console.log(`typescript: ${union}: ${Object.keys(cases).length} discriminator values (${property}) parse into their member`);
}
process.exit(problems ? 1 : 0);
