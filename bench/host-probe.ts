// Preloaded into a benchmark's devhost process (`node --expose-gc --require dist/bench/host-probe.js ...`): on SIGUSR2 it
// collects garbage and prints the process's memory as one `[probe] {...}` line on stderr, so the benchmark can tell
// what open streams cost the host without adding a route to it.
process.on('SIGUSR2', () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  process.stderr.write(`[probe] ${JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers })}\n`);
});
