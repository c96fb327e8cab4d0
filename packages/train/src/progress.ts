/**
 * Progress bar (cli-progress) with loss, throughput and ETA. Silent when stderr is not a TTY or the
 * caller asked for machine output (--json): then only the per-epoch log lines remain.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  start(total: number, done: number, label: string): void;
  update(done: number, values: { loss: number; samplesPerSecond: number }): void;
  stop(): void;
}

export function createProgress(enabled: boolean): Progress {
  if (!enabled || !process.stderr.isTTY) {
    return { start() {}, update() {}, stop() {} };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: '{label} [{bar}] {value}/{total} steps | loss {loss} | {throughput} samples/s | ETA {eta_formatted}',
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  return {
    start(total, done, label) {
      bar.start(total, done, { label, loss: '-', throughput: '-' });
    },
    update(done, { loss, samplesPerSecond }) {
      bar.update(done, { loss: loss.toFixed(4), throughput: samplesPerSecond.toFixed(0) });
    },
    stop() {
      bar.stop();
    },
  };
}
