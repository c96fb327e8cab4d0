#!/usr/bin/env node
import { releaseWebGPU } from '@sparse-ift/backend';
import { endQuietlyOnBrokenPipe } from './output.js';
import { main } from './program.js';

endQuietlyOnBrokenPipe();
process.exitCode = await main(process.argv);
// Dawn's instance (the webgpu backend) keeps Node running while referenced.
releaseWebGPU();
