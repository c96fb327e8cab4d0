#!/usr/bin/env node
import { releaseWebGPU } from '@sparse-ift/backend';
import { main } from './program.js';

process.exitCode = await main(process.argv);
// Dawn's instance (the webgpu backend) keeps Node running while referenced.
releaseWebGPU();
