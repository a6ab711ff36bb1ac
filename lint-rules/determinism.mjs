// The determinism lint: what may not run inside a Durable orchestrator (it is replayed, so a clock, a random number,
// a timer or I/O breaks it), and the rule that finds game code running there: every function passed to interactive()
// or loop(), wherever it is written. eslint.config.mjs applies the same lists to orchestrations/** and core/driver.ts.

export const WHY = 'is not deterministic: orchestrator code is replayed. Use context.df.currentUtcDateTime / df.newGuid(), createTimer(), or an activity.';

/** Globals that are timers, clocks, randomness or I/O. */
export const FORBIDDEN_GLOBALS = ['setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask', 'fetch', 'XMLHttpRequest', 'WebSocket', 'performance', 'crypto'];

/** Properties of globals that read the clock, randomness or the environment, with how the message names them. */
export const FORBIDDEN_PROPERTIES = [
  { object: 'Date', property: 'now', name: 'Date.now()' },
  { object: 'Math', property: 'random', name: 'Math.random()' },
  { object: 'process', property: 'env', name: 'process.env', fix: 'Read settings in an activity or pass them in the input.' },
  { object: 'process', property: 'hrtime', name: 'process.hrtime' },
  { object: 'performance', property: 'now', name: 'performance.now()' },
  { object: 'crypto', property: 'randomUUID', name: 'crypto.randomUUID()' },
  { object: 'crypto', property: 'getRandomValues', name: 'crypto.getRandomValues()' },
];

/** Modules that do I/O (or read time) when used. */
export const FORBIDDEN_MODULES = ['fs', 'fs/promises', 'http', 'https', 'net', 'crypto', 'child_process', 'timers', 'timers/promises'].flatMap((m) => [m, `node:${m}`]).concat(['@azure/data-tables']);

const OBJECTS = new Set(FORBIDDEN_PROPERTIES.map((p) => p.object));
const GLOBALS = new Set(FORBIDDEN_GLOBALS);
const MODULES = new Set(FORBIDDEN_MODULES);
const KINDS = new Set(['interactive', 'loop']);
const FUNCTION = new Set(['FunctionExpression', 'ArrowFunctionExpression', 'FunctionDeclaration']);

function findVariable(scope, name) {
  for (let s = scope; s; s = s.upper) {
    const v = s.set.get(name);
    if (v) return v;
  }
  return undefined;
}

/** A global: not declared anywhere in the file (configured globals have no definitions). */
function isGlobal(variable) {
  return !variable || variable.defs.length === 0;
}

function importedName(def) {
  const imported = def.node.imported;
  return imported ? (imported.type === 'Identifier' ? imported.name : imported.value) : undefined;
}

/** 'interactive' or 'loop' when `callee` is the toolkit's function (by name, import alias or namespace), else undefined. */
function toolkitCall(callee, scope) {
  if (callee.type === 'Identifier') {
    const def = findVariable(scope, callee.name)?.defs[0];
    if (!def) return KINDS.has(callee.name) ? callee.name : undefined;
    if (def.type === 'ImportBinding' && def.node.type === 'ImportSpecifier') {
      const name = importedName(def);
      return KINDS.has(name) ? name : undefined;
    }
    return undefined;
  }
  if (callee.type === 'MemberExpression' && !callee.computed && callee.property.type === 'Identifier' && KINDS.has(callee.property.name) && callee.object.type === 'Identifier') {
    const def = findVariable(scope, callee.object.name)?.defs[0];
    if (def?.type === 'ImportBinding' && def.node.type === 'ImportNamespaceSpecifier') return callee.property.name;
  }
  return undefined;
}

/** @type {import('eslint').Rule.RuleModule} */
const orchestratorBodies = {
  meta: {
    type: 'problem',
    docs: { description: 'Forbid clocks, randomness, timers, process.env, await and I/O in functions passed to interactive() and loop(), which run inside an orchestrator.' },
    schema: [],
    messages: { forbidden: '{{what}} {{why}} This function runs inside an orchestrator ({{where}}).' },
  },
  create(context) {
    const sourceCode = context.sourceCode;
    const calls = [];

    return {
      CallExpression(node) {
        const kind = toolkitCall(node.callee, sourceCode.getScope(node));
        if (kind && node.arguments.length > 0) calls.push({ node, kind });
      },
      'Program:exit'() {
        const queue = [];
        const seen = new Set();
        const reported = new Set();

        /** Queues the functions an expression stands for: a function, an object's function properties, or a name defined in this file. */
        const addRoots = (node, where) => {
          if (!node) return;
          if (FUNCTION.has(node.type)) {
            if (!seen.has(node)) {
              seen.add(node);
              queue.push({ fn: node, where });
            }
          } else if (node.type === 'ObjectExpression') {
            for (const p of node.properties) addRoots(p.type === 'Property' ? p.value : p.argument, where);
          } else if (node.type === 'Identifier') {
            const def = findVariable(sourceCode.getScope(node), node.name)?.defs[0];
            if (def?.type === 'FunctionName') addRoots(def.node, where);
            else if (def?.type === 'Variable' && def.node.init) addRoots(def.node.init, where);
          } else if (node.type === 'TSAsExpression' || node.type === 'TSSatisfiesExpression' || node.type === 'TSNonNullExpression') {
            addRoots(node.expression, where);
          }
        };

        const report = (node, what, where, fix = '') => {
          if (reported.has(node)) return;
          reported.add(node);
          context.report({ node, messageId: 'forbidden', data: { what, why: fix ? `${WHY} ${fix}` : WHY, where } });
        };

        for (const { node, kind } of calls) addRoots(node.arguments[0], `passed to ${kind}() at line ${node.loc.start.line}`);

        while (queue.length > 0) {
          const { fn, where } = queue.shift();
          // Nodes: await, async functions, and calls of functions defined in this file (they run here too).
          const walk = (node) => {
            if (node.type === 'AwaitExpression') report(node, 'await', where, 'Yield Durable tasks instead.');
            if (FUNCTION.has(node.type) && node.async) report(node, 'async functions', where, 'Yield Durable tasks instead.');
            if (node.type === 'CallExpression' && node.callee.type === 'Identifier') addRoots(node.callee, `called from a function ${where}`);
            for (const key of sourceCode.visitorKeys[node.type] ?? []) {
              const child = node[key];
              for (const c of Array.isArray(child) ? child : [child]) {
                if (c && typeof c.type === 'string') walk(c);
              }
            }
          };
          walk(fn);
          // Names: forbidden globals, their properties, and bindings imported from I/O modules.
          const scopes = [];
          const gather = (scope) => {
            scopes.push(scope);
            scope.childScopes.forEach(gather);
          };
          const top = sourceCode.scopeManager.acquire(fn);
          if (top) gather(top);
          for (const scope of scopes) {
            for (const ref of scope.references) {
              if (ref.isValueReference === false) continue; // a type position
              const id = ref.identifier;
              const variable = ref.resolved ?? findVariable(scope, id.name);
              const def = variable?.defs[0];
              if (def?.type === 'ImportBinding' && MODULES.has(def.parent.source.value)) {
                report(id, `${id.name} (imported from ${def.parent.source.value})`, where);
                continue;
              }
              if (!isGlobal(variable)) continue;
              const parent = id.parent;
              if (OBJECTS.has(id.name) && parent.type === 'MemberExpression' && parent.object === id) {
                const prop = !parent.computed && parent.property.type === 'Identifier' ? parent.property.name : parent.property.type === 'Literal' ? String(parent.property.value) : undefined;
                const hit = FORBIDDEN_PROPERTIES.find((p) => p.object === id.name && p.property === prop);
                if (hit) {
                  report(parent, hit.name, where, hit.fix);
                  continue;
                }
              }
              if (id.name === 'Date' && parent.type === 'NewExpression' && parent.callee === id && parent.arguments.length === 0) report(parent, 'new Date() without an argument', where);
              else if (id.name === 'Date' && parent.type === 'CallExpression' && parent.callee === id) report(parent, 'Date()', where);
              else if (GLOBALS.has(id.name)) report(id, id.name, where);
            }
          }
        }
      },
    };
  },
};

export default { meta: { name: 'determinism' }, rules: { 'orchestrator-bodies': orchestratorBodies } };
