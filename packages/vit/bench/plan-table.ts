/**
 * Params and forward FLOPs of ViT-S/16 (or other registered ViTs) for every family × sparsity, from the op
 * lists (no weights allocated). Paper convention = MACs; official = the Cerebras counter's
 * multiplies + adds (attention matmuls invisible to it, docs/flops.md#official-counter). The table is `printPlanTable` of
 * packages/gpt/bench/common.ts.
 *
 *   npx tsx packages/vit/bench/plan-table.ts [--models vit-s16,vit-b16]
 */
import '@sparse-ift/vit';
import { printPlanTable } from '../../transformer/bench/common.js';

printPlanTable('vit-s16');
