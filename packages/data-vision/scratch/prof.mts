import sharp from 'sharp';
import { normalizeInto, IMAGENET_MEAN, IMAGENET_STD } from '../src/augment.ts';
sharp.concurrency(1); sharp.cache(false);
const img = await sharp({ create: { width: 500, height: 375, channels: 3, background: { r: 40, g: 120, b: 200 }, noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).blur(0.8).jpeg({ quality: 90 }).toBuffer();
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
async function time(name: string, f: () => Promise<unknown>, n = 100) {
  for (let i = 0; i < 5; i++) await f();
  const c = cpu(); const t = performance.now();
  for (let i = 0; i < n; i++) await f();
  console.log(name.padEnd(40), ((cpu() - c) / n * 1000).toFixed(2), 'ms CPU/img', ((performance.now() - t) / n).toFixed(2), 'ms wall');
}
await time('metadata', () => sharp(img).metadata());
await time('decode full raw', () => sharp(img).raw().toBuffer());
await time('crop 300x250 + resize 224 raw', () => sharp(img).extract({left:50,top:50,width:300,height:250}).resize(224,224,{fit:'fill',kernel:'linear'}).raw().toBuffer());
await time('  + removeAlpha + srgb', () => sharp(img).extract({left:50,top:50,width:300,height:250}).resize(224,224,{fit:'fill',kernel:'linear'}).removeAlpha().toColourspace('srgb').raw().toBuffer());
await time('  lanczos3 instead', () => sharp(img).extract({left:50,top:50,width:300,height:250}).resize(224,224,{fit:'fill'}).raw().toBuffer());
await time('eval resize 341x256 + crop', () => sharp(img).resize(341,256,{fit:'fill',kernel:'linear'}).extract({left:58,top:16,width:224,height:224}).raw().toBuffer());
const px = new Uint8Array(224*224*3); const out = new Float32Array(px.length);
await time('normalize', async () => normalizeInto(px, 3, IMAGENET_MEAN, IMAGENET_STD, out), 300);
console.log('jpeg kB', (img.length/1024).toFixed(0));
