import { DecodePool } from '../src/decode-pool.ts';
import { sampleJpeg } from '../test/fixtures.ts';
const img = sampleJpeg(1);
for (const n of [1, 2]) {
  const t = performance.now();
  const pool = new DecodePool({ workers: n });
  await Promise.all(Array.from({length:n}, () => pool.run(img, { mode: 'check' })));
  console.log(n, 'workers boot+1 job', (performance.now() - t).toFixed(0), 'ms');
  await pool.close();
}
