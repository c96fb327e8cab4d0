import { DecodePool } from '../dist/index.js';
import sharp from 'sharp';
const jpg = await sharp({create:{width:500,height:375,channels:3,background:{r:200,g:100,b:50}}}).jpeg().toBuffer();
const pool = new DecodePool({workers:1});
const r = await pool.run(jpg,{mode:'train',seed:3}); console.log(r.pixels.length, r.pixels[0]);
await pool.close();
