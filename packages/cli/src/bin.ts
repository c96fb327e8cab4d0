#!/usr/bin/env node
import { register } from 'node:module';

// Must run before tf.js loads: see gradients-hook.ts.
register('./gradients-hook.js', import.meta.url);
const { main } = await import('./program.js');
process.exitCode = await main(process.argv);
