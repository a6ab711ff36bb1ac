// Benchmark app for the devhost: "5 sequential activities" started over HTTP, and timers that
// report how late they fired (the episode time minus the planned fire time).
const { app } = require('@azure/functions');
const df = require('durable-functions');

df.app.activity('step', { handler: (n) => n + 1 });

df.app.orchestration('fiveSteps', function* (context) {
  let n = 0;
  for (let i = 0; i < 5; i++) n = yield context.df.callActivity('step', n);
  return n;
});

df.app.orchestration('lateTimer', function* (context) {
  const fireAt = new Date(context.df.getInput().fireAt);
  yield context.df.createTimer(fireAt);
  return context.df.currentUtcDateTime.getTime() - fireAt.getTime();
});

app.http('startFive', {
  route: 'five',
  methods: ['POST'],
  extraInputs: [df.input.durableClient()],
  handler: async (request, context) => {
    const client = df.getClient(context);
    const id = await client.startNew('fiveSteps');
    return { status: 202, jsonBody: { id } };
  },
});
