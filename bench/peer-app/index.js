// The peer benchmark's workloads for the devhost, the same as bench/peer-scenarios.ts gives @microsoft/durabletask-js:
// five sequential activities, a fan-out of n activities, a one-second timer, and a counter entity.
'use strict';

const df = require('durable-functions');

df.app.activity('step', { handler: (n) => n + 1 });

df.app.orchestration('fiveSteps', function* (context) {
  let n = 0;
  for (let i = 0; i < 5; i++) n = yield context.df.callActivity('step', n);
  return n;
});

df.app.orchestration('fanOut', function* (context) {
  const n = context.df.getInput();
  const results = yield context.df.Task.all(Array.from({ length: n }, (_, i) => context.df.callActivity('step', i)));
  return results.length;
});

df.app.orchestration('oneSecond', function* (context) {
  yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + 1000));
  return 'done';
});

df.app.entity('counter', (context) => {
  context.df.setState((context.df.getState(() => 0)) + context.df.getInput());
});
